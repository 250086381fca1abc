package org.peft4j.peft;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import org.peft4j.io.AtomicFiles;
import org.peft4j.io.Json;
import org.peft4j.io.SafetensorsReader;
import org.peft4j.io.SafetensorsWriter;
import org.peft4j.nn.Initializers;
import org.peft4j.nn.LinearAdapter;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.Module;
import org.peft4j.tuners.lora.LoraAdapter;
import org.peft4j.tuners.lora.LoraConfig;
import org.peft4j.tuners.lora.LoraModel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A frozen base model with named adapters, as Hugging Face PEFT's {@code PeftModel}: adding,
 * activating and deleting adapters, the trainable-parameter summary, the on-disk format
 * ({@code adapter_config.json} + {@code adapter_model.safetensors}) and merging.
 *
 * <p>modules_to_save (typically the classifier) get a trainable copy per adapter; the copy replaces
 * the original in forward passes while its adapter is active.
 */
public final class PeftModel {

    public static final String CONFIG_FILE = "adapter_config.json";
    public static final String WEIGHTS_FILE = "adapter_model.safetensors";
    public static final String DEFAULT_ADAPTER = "default";
    /** Saved keys are the module paths behind this prefix, with the adapter name left out. */
    public static final String PREFIX = "base_model.model.";

    private final Module base;
    private final String headPath;
    private final NDManager manager;
    private final Map<String, Adapter> adapters = new LinkedHashMap<>();
    private List<String> active = List.of();

    /** One adapter's pieces: its config, its layers by path, its module copies by parameter path. */
    private record Adapter(LoraConfig config, Map<String, LoraAdapter> layers, Map<String, SavedParam> saved) {}

    /** A modules_to_save copy: the module owning the original, the original, and the copy. */
    private record SavedParam(Module owner, Parameter original, Parameter copy) {}

    public PeftModel(Module base, String headPath, NDManager manager) {
        this.base = base;
        this.headPath = headPath;
        this.manager = manager;
        base.setTrainable(false);
    }

    public Module base() {
        return base;
    }

    public NDArray forward(NDArray x, boolean training) {
        return base.forward(x, training);
    }

    /** Injects a new adapter, initialised per its config, and makes it the active one. */
    public void addAdapter(String name, LoraConfig config) {
        if (adapters.containsKey(name)) {
            throw new IllegalArgumentException("adapter '" + name + "' already exists");
        }
        Map<String, SavedParam> saved = copyModulesToSave(config); // validates before anything is injected
        Map<String, LoraAdapter> layers = LoraModel.inject(base, headPath, config, name);
        layers.values().forEach(a -> a.initialize(manager));
        adapters.put(name, new Adapter(config, layers, saved));
        setActiveAdapters(name);
    }

    /** Trainable copies of the modules_to_save (every parameter of each matched subtree). */
    private Map<String, SavedParam> copyModulesToSave(LoraConfig config) {
        Map<String, Module> matched = new LinkedHashMap<>();
        base.namedModules().forEach((path, m) -> {
            if (!path.isEmpty() && TargetModules.matchesName(config.modulesToSave(), path)) {
                matched.put(path, m);
            }
        });
        for (String t : config.modulesToSave()) {
            if (matched.keySet().stream().noneMatch(p -> TargetModules.matchesName(List.of(t), p))) {
                throw new IllegalArgumentException("modules_to_save entry '" + t + "' matches no module");
            }
        }
        Map<String, SavedParam> saved = new LinkedHashMap<>();
        matched.forEach((path, module) -> module.namedModules().forEach((subPath, sub) ->
                sub.params().forEach((name, original) -> {
                    Parameter copy = Parameter.builder().setName(name).setType(Parameter.Type.OTHER)
                            .optShape(original.getShape()).optArray(original.getArray().duplicate()).build();
                    copy.getArray().attach(manager);
                    copy.freeze(false);
                    saved.put(Module.join(Module.join(path, subPath), name), new SavedParam(sub, original, copy));
                })));
        return saved;
    }

    /**
     * Which adapters run (several add up). Their modules_to_save copies replace the originals.
     * Merged adapters are unmerged first, as PEFT does, so no inactive adapter stays in W.
     */
    public void setActiveAdapters(String... names) {
        for (String n : names) {
            requireAdapter(n);
        }
        unmerge();
        active = List.of(names);
        for (LinearLayer layer : base.modulesOfType(LinearLayer.class).values()) {
            layer.setActive(active);
        }
        for (Adapter a : adapters.values()) {
            a.saved.values().forEach(s -> s.owner.setOverride(s.original, null));
        }
        for (int i = names.length - 1; i >= 0; i--) { // the first listed wins a shared module
            adapters.get(names[i]).saved.values().forEach(s -> s.owner.setOverride(s.original, s.copy));
        }
        updateTrainable();
    }

    /** Runs the plain base model until adapters are set active again. */
    public void disableAdapters() {
        setActiveAdapters();
    }

    public List<String> activeAdapters() {
        return active;
    }

    public Set<String> adapterNames() {
        return adapters.keySet();
    }

    public LoraConfig config(String name) {
        return requireAdapter(name).config;
    }

    public void deleteAdapter(String name) {
        Adapter a = requireAdapter(name);
        Map<String, LinearLayer> linears = base.modulesOfType(LinearLayer.class);
        a.layers.keySet().forEach(path -> linears.get(path).removeAdapter(name));
        a.saved.values().forEach(s -> s.owner.setOverride(s.original, null));
        adapters.remove(name);
        List<String> rest = new ArrayList<>(active);
        rest.remove(name);
        setActiveAdapters(rest.toArray(String[]::new));
    }

    /** The active adapters' parameters by save key; only these train (biases too, per config). */
    public LinkedHashMap<String, Parameter> trainableParameters() {
        LinkedHashMap<String, Parameter> out = new LinkedHashMap<>();
        for (String n : active) {
            out.putAll(stateParameters(n));
        }
        return out;
    }

    private void updateTrainable() {
        base.setTrainable(false);
        for (Adapter a : adapters.values()) {
            a.layers.values().forEach(l -> l.parameters().values().forEach(p -> p.freeze(true)));
            a.saved.values().forEach(s -> s.copy.freeze(true));
        }
        trainableParameters().values().forEach(p -> p.freeze(false));
    }

    /** Everything adapter {@code name} saves, by PEFT key without the prefix. */
    private LinkedHashMap<String, Parameter> stateParameters(String name) {
        Adapter a = requireAdapter(name);
        LinkedHashMap<String, Parameter> out = new LinkedHashMap<>();
        a.layers.forEach((path, layer) ->
                layer.parameters().forEach((k, p) -> out.put(Module.join(path, k), p)));
        if (a.config.bias() != LoraConfig.Bias.NONE) {
            // PEFT's rule ("bias" in the name) and its key for a wrapped layer's own bias (base_layer).
            for (Map.Entry<String, Parameter> e : base.namedParameters().entrySet()) {
                String key = e.getKey();
                if (!key.endsWith("bias")) {
                    continue;
                }
                String module = key.substring(0, Math.max(0, key.length() - "bias".length() - 1));
                boolean wrapped = a.layers.containsKey(module);
                if (a.config.bias() == LoraConfig.Bias.ALL || wrapped) {
                    out.put(wrapped ? module + ".base_layer.bias" : key, e.getValue());
                }
            }
        }
        a.saved.forEach((key, s) -> out.put(key, s.copy));
        return out;
    }

    // ---- parameter counts (PEFT's print_trainable_parameters) ----

    public record ParameterCounts(long trainable, long all) {
        public double percent() {
            return all == 0 ? 0 : 100.0 * trainable / all;
        }

        /** PEFT's exact line: {@code trainable params: X || all params: Y || trainable%: Z}. */
        public String summary() {
            return String.format(Locale.ROOT, "trainable params: %,d || all params: %,d || trainable%%: %.4f",
                    trainable, all, percent());
        }
    }

    /**
     * Counts as PEFT reports them: all = base parameters plus every adapter's low-rank weights
     * (a modules_to_save copy stands in for its original, it is not counted twice).
     */
    public ParameterCounts counts() {
        long all = 0;
        for (Parameter p : base.namedParameters().values()) {
            all += Module.numel(p);
        }
        for (Adapter a : adapters.values()) {
            for (LoraAdapter l : a.layers.values()) {
                for (Parameter p : l.parameters().values()) {
                    all += Module.numel(p);
                }
            }
        }
        long trainable = 0;
        for (Parameter p : trainableParameters().values()) {
            trainable += Module.numel(p);
        }
        return new ParameterCounts(trainable, all);
    }

    // ---- Hugging Face PEFT format ----

    /**
     * Writes {@code adapter_config.json} and {@code adapter_model.safetensors} into {@code dir}, each
     * atomically (other files there, such as training metrics, are kept).
     */
    public void save(Path dir, String name) throws IOException {
        Adapter a = requireAdapter(name);
        Files.createDirectories(dir);
        SafetensorsWriter writer = new SafetensorsWriter();
        stateParameters(name).forEach((key, p) -> writer.add(PREFIX + key, p.getArray()));
        writer.write(dir.resolve(WEIGHTS_FILE));
        AtomicFiles.writeString(dir.resolve(CONFIG_FILE), Json.toPythonStyle(a.config.toJson()));
    }

    /** Reads a PEFT adapter folder as adapter {@code name}, checking every tensor's name and shape. */
    public void load(Path dir, String name) throws IOException {
        Path configFile = dir.resolve(CONFIG_FILE);
        Path weightsFile = dir.resolve(WEIGHTS_FILE);
        if (!Files.isRegularFile(configFile)) {
            throw new IOException(configFile + ": not found (an adapter folder holds " + CONFIG_FILE + " + " + WEIGHTS_FILE + ")");
        }
        if (!Files.isRegularFile(weightsFile)) {
            String hint = Files.exists(dir.resolve("adapter_model.bin"))
                    ? " (found adapter_model.bin: only safetensors is read)" : "";
            throw new IOException(weightsFile + ": not found" + hint);
        }
        LoraConfig config;
        try {
            config = LoraConfig.fromJson(Json.MAPPER.readTree(configFile.toFile()));
        } catch (IllegalArgumentException | com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException(configFile + ": " + e.getMessage(), e);
        }
        try {
            addAdapter(name, config);
        } catch (IllegalArgumentException e) {
            throw new IOException(configFile + ": " + e.getMessage(), e);
        }
        try (SafetensorsReader reader = SafetensorsReader.open(weightsFile)) {
            Map<String, Parameter> state = stateParameters(name);
            Set<String> unexpected = new LinkedHashSet<>(reader.names());
            List<String> missing = new ArrayList<>();
            for (Map.Entry<String, Parameter> e : state.entrySet()) {
                String key = PREFIX + e.getKey();
                if (!reader.contains(key)) {
                    missing.add(key);
                    continue;
                }
                unexpected.remove(key);
                NDArray target = e.getValue().getArray();
                long[] shape = reader.info(key).shape();
                if (!Arrays.equals(shape, target.getShape().getShape())) {
                    throw new IOException(weightsFile + ": '" + key + "' has shape " + new Shape(shape)
                            + " but the model and " + CONFIG_FILE + " need " + target.getShape());
                }
                try (NDArray value = reader.readNDArray(key, manager)) {
                    Initializers.copyInto(target, value);
                }
            }
            if (!missing.isEmpty() || !unexpected.isEmpty()) {
                throw new IOException(weightsFile + ": does not fit this model: missing " + sample(missing)
                        + ", unexpected " + sample(new ArrayList<>(unexpected))
                        + " (was it trained on another base model, or with other target_modules?)");
            }
        } catch (IOException | RuntimeException e) {
            if (adapters.containsKey(name)) {
                deleteAdapter(name);
            }
            throw e;
        }
    }

    private static String sample(List<String> keys) {
        return keys.size() <= 4 ? keys.toString() : keys.subList(0, 4) + " and " + (keys.size() - 4) + " more";
    }

    // ---- merging ----

    /** Folds the given adapters into the base weights ({@code W ← W + s·B·A}); safe checks NaN/Inf first. */
    public void merge(boolean safe, String... names) {
        for (String n : names) {
            Adapter a = requireAdapter(n);
            Map<String, LinearLayer> linears = base.modulesOfType(LinearLayer.class);
            a.layers.keySet().forEach(path -> linears.get(path).merge(n, safe));
        }
    }

    /** Undoes every merge. */
    public void unmerge() {
        base.modulesOfType(LinearLayer.class).values().forEach(LinearLayer::unmergeAll);
    }

    /**
     * Merges the active adapters into the base weights, writes their modules_to_save copies over
     * the originals and removes every adapter: what remains is a plain model of the base type.
     */
    public Module mergeAndUnload(boolean safe) {
        List<String> names = new ArrayList<>(active);
        merge(safe, names.toArray(String[]::new));
        for (int i = names.size() - 1; i >= 0; i--) {
            for (SavedParam s : adapters.get(names.get(i)).saved.values()) {
                Initializers.copyInto(s.original.getArray(), s.copy.getArray());
            }
        }
        for (LinearLayer layer : base.modulesOfType(LinearLayer.class).values()) {
            List<String> merged = layer.merged();
            for (String n : new ArrayList<>(layer.adapters().keySet())) {
                if (merged.contains(n)) {
                    layer.forgetMerged(n);
                }
                layer.removeAdapter(n);
            }
        }
        for (Adapter a : adapters.values()) {
            a.saved.values().forEach(s -> s.owner.setOverride(s.original, null));
        }
        adapters.clear();
        active = List.of();
        return base;
    }

    private Adapter requireAdapter(String name) {
        Adapter a = adapters.get(name);
        if (a == null) {
            throw new IllegalArgumentException("no adapter '" + name + "'; adapters: " + adapters.keySet());
        }
        return a;
    }

    /** Helper for tests and tools: every low-rank layer of adapter {@code name}, by module path. */
    public Map<String, LinearAdapter> layers(String name) {
        return Map.copyOf(requireAdapter(name).layers);
    }
}
