package org.peft4j.tuners;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import com.fasterxml.jackson.databind.JsonNode;
import org.peft4j.io.AtomicFiles;
import org.peft4j.io.Json;
import org.peft4j.io.SafetensorsReader;
import org.peft4j.io.SafetensorsWriter;
import org.peft4j.nn.HookSlot;
import org.peft4j.nn.Initializers;
import org.peft4j.nn.MergeableHook;
import org.peft4j.nn.Module;

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
import java.util.function.Function;

/**
 * A frozen base model with named adapters of any tuner, as Hugging Face PEFT's tuner base and
 * {@code PeftModel}: adding, activating, deleting; freezing; the trainable-parameter summary; the
 * on-disk format ({@code adapter_config.json} + {@code adapter_model.safetensors}); merging. Tuners
 * only build {@link Injection}s; everything they share lives here.
 *
 * <p>modules_to_save (typically the classifier) get a trainable copy per adapter; the copy replaces
 * the original in forward passes while its adapter is active.
 */
public class AdapterModel {

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

    /** One adapter's pieces: its config, its injected hooks, its module copies by parameter path. */
    private record Adapter(TunerConfig config, Injection injection, Map<String, SavedParam> saved) {}

    /** A modules_to_save copy: the module owning the original, the original, and the copy. */
    private record SavedParam(Module owner, Parameter original, Parameter copy) {}

    public AdapterModel(Module base, String headPath, NDManager manager) {
        this.base = base;
        this.headPath = headPath;
        this.manager = manager;
        base.setTrainable(false);
    }

    public Module base() {
        return base;
    }

    /** The path of the base model's head (never adapted by all-linear). */
    public String headPath() {
        return headPath;
    }

    public NDArray forward(NDArray x, boolean training) {
        return base.forward(x, training);
    }

    /** Injects a new adapter, initialised per its config, and makes it the active one. */
    public void addAdapter(String name, TunerConfig config) {
        Adapter a = prepare(name, config);
        unmerge(); // hooks that start from W (DoRA, PiSSA) must see the base weights; attaching unmerges anyway
        a.injection.initialize(manager);
        attach(name, a);
    }

    /** Validates and builds an adapter without touching the model (the copies are new arrays). */
    private Adapter prepare(String name, TunerConfig config) {
        if (adapters.containsKey(name)) {
            throw new IllegalArgumentException("adapter '" + name + "' already exists");
        }
        Map<String, Module> toSave = modulesToSave(config); // validated before anything is built
        Injection injection = config.inject(base, headPath);
        if (injection.isEmpty()) {
            throw new IllegalArgumentException(config.peftType() + " adapter adds nothing to this model");
        }
        return new Adapter(config, injection, copyModules(toSave));
    }

    private void attach(String name, Adapter a) {
        a.injection.placements().forEach(pl -> pl.attach(name));
        adapters.put(name, a);
        setActiveAdapters(name);
    }

    private Map<String, Module> modulesToSave(TunerConfig config) {
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
        return matched;
    }

    /** Trainable copies of the modules_to_save (every parameter of each matched subtree). */
    private Map<String, SavedParam> copyModules(Map<String, Module> matched) {
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
        for (HookSlot<?> slot : slots()) {
            slot.setActive(active);
        }
        for (Adapter a : adapters.values()) {
            a.saved.values().forEach(s -> s.owner.setOverride(s.original, null));
        }
        for (int i = names.length - 1; i >= 0; i--) { // the first listed wins a shared module
            adapters.get(names[i]).saved.values().forEach(s -> s.owner.setOverride(s.original, s.copy));
        }
        updateTrainable();
    }

    /** Every slot any adapter has a hook in. */
    private Set<HookSlot<?>> slots() {
        Set<HookSlot<?>> out = new LinkedHashSet<>();
        adapters.values().forEach(a -> a.injection.placements().forEach(pl -> out.add(pl.slot())));
        return out;
    }

    /** Runs the plain base model until adapters are set active again. */
    public void disableAdapters() {
        setActiveAdapters();
    }

    public List<String> activeAdapters() {
        return active;
    }

    /** Adapter {@code name}'s modules_to_save copies by parameter path ({@code classifier.weight}). */
    public Map<String, Parameter> savedCopies(String name) {
        Map<String, Parameter> out = new LinkedHashMap<>();
        requireAdapter(name).saved.forEach((path, s) -> out.put(path, s.copy));
        return out;
    }

    public Set<String> adapterNames() {
        return adapters.keySet();
    }

    public TunerConfig config(String name) {
        return requireAdapter(name).config;
    }

    /** Adapter {@code name}'s hooks by module path (a module may host several, e.g. prompts and adapters on a block). */
    public List<Injection.Placement<?>> placements(String name) {
        return requireAdapter(name).injection.placements();
    }

    /**
     * Removes adapter {@code name} and frees its parameters and modules_to_save copies at once (a
     * server that loads and evicts adapters must not keep them until the model's manager closes).
     */
    public void deleteAdapter(String name) {
        Adapter a = requireAdapter(name);
        a.injection.placements().forEach(pl -> pl.detach(name)); // refuses a merged adapter before anything changes
        a.saved.values().forEach(s -> s.owner.setOverride(s.original, null));
        adapters.remove(name);
        List<String> rest = new ArrayList<>(active);
        rest.remove(name);
        setActiveAdapters(rest.toArray(String[]::new));
        a.injection.ownParameters().values().forEach(Parameter::close);
        a.saved.values().forEach(s -> s.copy.close());
    }

    /** Bytes of adapter {@code name}'s own parameters and modules_to_save copies (what deleting it frees). */
    public long adapterBytes(String name) {
        Adapter a = requireAdapter(name);
        long bytes = 0;
        for (Parameter p : a.injection.ownParameters().values()) {
            bytes += Module.numel(p) * p.getArray().getDataType().getNumOfBytes();
        }
        for (SavedParam s : a.saved.values()) {
            bytes += Module.numel(s.copy) * s.copy.getArray().getDataType().getNumOfBytes();
        }
        return bytes;
    }

    /**
     * The active adapters' trainable parameters by save key (keys get an {@code adapter/} prefix when
     * several adapters are active, so that equal module paths stay apart).
     */
    public LinkedHashMap<String, Parameter> trainableParameters() {
        LinkedHashMap<String, Parameter> out = new LinkedHashMap<>();
        for (String n : active) {
            String prefix = active.size() > 1 ? n + "/" : "";
            trainable(n).forEach((k, p) -> out.put(prefix + k, p));
        }
        return out;
    }

    private LinkedHashMap<String, Parameter> trainable(String name) {
        Adapter a = requireAdapter(name);
        LinkedHashMap<String, Parameter> out = a.injection.trainableParameters();
        a.saved.forEach((key, s) -> out.put(key, s.copy));
        return out;
    }

    private void updateTrainable() {
        base.setTrainable(false);
        for (Adapter a : adapters.values()) {
            a.injection.ownParameters().values().forEach(p -> p.freeze(true));
            a.saved.values().forEach(s -> s.copy.freeze(true));
        }
        trainableParameters().values().forEach(p -> p.freeze(false));
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
     * Counts as PEFT reports them: all = base parameters plus every adapter's own parameters
     * (a modules_to_save copy stands in for its original, it is not counted twice).
     */
    public ParameterCounts counts() {
        long all = 0;
        for (Parameter p : base.namedParameters().values()) {
            all += Module.numel(p);
        }
        for (Adapter a : adapters.values()) {
            for (Parameter p : a.injection.ownParameters().values()) {
                all += Module.numel(p);
            }
        }
        long trainable = 0;
        for (Parameter p : trainableParameters().values()) {
            trainable += Module.numel(p);
        }
        return new ParameterCounts(trainable, all);
    }

    // ---- the adapter folder: Hugging Face PEFT's format ----

    /**
     * Writes {@code adapter_config.json} and {@code adapter_model.safetensors} into {@code dir}, each
     * atomically (other files there, such as training metrics, are kept).
     */
    public void save(Path dir, String name) throws IOException {
        Adapter a = requireAdapter(name);
        Files.createDirectories(dir);
        try (NDScope scope = new NDScope()) { // frees what a hook computes for its file form
            scope.suppressNotUsedWarning();
            SafetensorsWriter writer = new SafetensorsWriter();
            a.injection.stateToSave().forEach((key, v) -> writer.add(PREFIX + key, v));
            a.saved.forEach((key, s) -> writer.add(PREFIX + key, s.copy.getArray()));
            writer.write(dir.resolve(WEIGHTS_FILE));
        }
        AtomicFiles.writeString(dir.resolve(CONFIG_FILE), Json.toPythonStyle(a.config.savedConfig().toJson()));
    }

    /**
     * Reads an adapter folder as adapter {@code name}, its config parsed by {@code parser}. All or
     * nothing: the config, every tensor's name and shape are checked and the values read before the
     * model is touched, so a failed load leaves the base model and the other adapters as they were.
     */
    protected void load(Path dir, String name, Function<JsonNode, TunerConfig> parser) throws IOException {
        load(dir, name, parser, false);
    }

    /**
     * As {@link #load(Path, String, Function)}; with {@code withoutModulesToSave}, the adapter's
     * modules_to_save (its own head) are left out and their tensors skipped, so that adapters
     * trained with heads of different sizes can share one base model (merging keeps heads apart).
     */
    protected void load(Path dir, String name, Function<JsonNode, TunerConfig> parser, boolean withoutModulesToSave)
            throws IOException {
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
        Adapter a;
        List<String> skipped = List.of();
        try {
            JsonNode json = Json.readFile(configFile);
            if (withoutModulesToSave && json instanceof com.fasterxml.jackson.databind.node.ObjectNode o) {
                List<String> toSave = ConfigJson.stringsOrNull(o, "modules_to_save");
                skipped = toSave == null ? List.of() : toSave;
                o.putNull("modules_to_save");
            }
            a = prepare(name, parser.apply(json));
        } catch (IllegalArgumentException | com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new AdapterMismatchException(configFile + ": " + e.getMessage(), e);
        }
        Map<String, Parameter> targets = a.injection.loadTargets();
        a.saved.forEach((key, s) -> targets.put(key, s.copy));
        Map<String, float[]> values = new LinkedHashMap<>();
        try (SafetensorsReader reader = SafetensorsReader.open(weightsFile)) {
            readAll(reader, weightsFile, targets, values, skipped);
        } catch (IOException | RuntimeException e) {
            a.saved.values().forEach(s -> s.copy.close()); // the copies made for this adapter
            throw e;
        }
        unmerge();
        a.injection.initialize(manager);
        values.forEach((key, v) -> org.peft4j.nn.Initializers.copyInto(targets.get(key).getArray(), v));
        attach(name, a);
    }

    /** Checks every tensor's name and shape against {@code targets} and reads the values; changes nothing. */
    private static void readAll(SafetensorsReader reader, Path weightsFile, Map<String, Parameter> targets,
                                Map<String, float[]> values, List<String> skippedModules) throws IOException {
        Set<String> unexpected = new LinkedHashSet<>(reader.names());
        unexpected.removeIf(key -> {
            String path = key.startsWith(PREFIX) ? key.substring(PREFIX.length()) : key;
            int dot = path.lastIndexOf('.');
            return dot > 0 && TargetModules.matchesName(skippedModules, path.substring(0, dot));
        });
        List<String> missing = new ArrayList<>();
        for (Map.Entry<String, Parameter> e : targets.entrySet()) {
            String key = PREFIX + e.getKey();
            if (!reader.contains(key)) {
                missing.add(key);
                continue;
            }
            unexpected.remove(key);
            Shape want = e.getValue().getShape() != null ? e.getValue().getShape() : e.getValue().getArray().getShape();
            long[] shape = reader.info(key).shape();
            if (!Arrays.equals(shape, want.getShape())) {
                throw new AdapterMismatchException(weightsFile + ": '" + key + "' has shape " + new Shape(shape)
                        + " but the model and " + CONFIG_FILE + " need " + want);
            }
            reader.requireFloatingPoint(key);
            float[] v = reader.readFloats(key);
            reader.requireFinite(key, v);
            values.put(e.getKey(), v);
        }
        if (!missing.isEmpty() || !unexpected.isEmpty()) {
            throw new AdapterMismatchException(weightsFile + ": does not fit this model: missing " + sample(missing)
                    + ", unexpected " + sample(new ArrayList<>(unexpected))
                    + " (was it trained on another base model, with another method or other target_modules?)");
        }
    }

    private static String sample(List<String> keys) {
        return keys.size() <= 4 ? keys.toString() : keys.subList(0, 4) + " and " + (keys.size() - 4) + " more";
    }

    // ---- merging ----

    /**
     * Folds the given adapters into the base weights. With {@code safe}, NaN/Inf in any new weight
     * stops the merge and the layers already merged by this call are unmerged, so nothing changes.
     */
    public void merge(boolean safe, String... names) {
        for (String n : names) {
            requireMergeable(n, requireAdapter(n));
        }
        List<Map.Entry<String, HookSlot<?>>> done = new ArrayList<>();
        try {
            for (String n : names) {
                for (Injection.Placement<?> pl : adapters.get(n).injection.placements()) {
                    if (!pl.slot().merged().contains(n)) {
                        pl.slot().merge(n, safe);
                        done.add(Map.entry(n, pl.slot()));
                    }
                }
            }
        } catch (RuntimeException e) {
            for (int i = done.size() - 1; i >= 0; i--) {
                done.get(i).getValue().unmergeLast(done.get(i).getKey());
            }
            throw e;
        }
    }

    private static void requireMergeable(String name, Adapter a) {
        for (Injection.Placement<?> pl : a.injection.placements()) {
            if (!(pl.hook() instanceof MergeableHook m)) {
                throw new IllegalStateException("adapter '" + name + "' (" + a.config.peftType() + ") cannot be merged "
                        + "into the weights: its " + pl.hook().getClass().getSimpleName() + " at '" + pl.path()
                        + "' changes the computation, not a weight");
            }
            String blocker = m.mergeBlocker();
            if (blocker != null) {
                throw new IllegalStateException("adapter '" + name + "' cannot be merged at '" + pl.path() + "': " + blocker);
            }
        }
    }

    /** Undoes every merge. */
    public void unmerge() {
        slots().forEach(HookSlot::unmergeAll);
    }

    /**
     * Merges the active adapters into the base weights, writes their modules_to_save copies over
     * the originals and removes every adapter: what remains is a plain model of the base type.
     */
    public Module mergeAndUnload(boolean safe) {
        List<String> names = new ArrayList<>(active);
        names.forEach(n -> requireMergeable(n, adapters.get(n)));
        merge(safe, names.toArray(String[]::new));
        for (int i = names.size() - 1; i >= 0; i--) {
            for (SavedParam s : adapters.get(names.get(i)).saved.values()) {
                Initializers.copyInto(s.original.getArray(), s.copy.getArray());
            }
        }
        for (Map.Entry<String, Adapter> e : adapters.entrySet()) {
            for (Injection.Placement<?> pl : e.getValue().injection.placements()) {
                pl.slot().forgetMerged(e.getKey());
                pl.detach(e.getKey());
            }
            e.getValue().saved.values().forEach(s -> s.owner.setOverride(s.original, null));
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
}
