package org.peft4j.models.text;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import org.peft4j.io.AtomicFiles;
import org.peft4j.io.Json;
import org.peft4j.io.SafetensorsReader;
import org.peft4j.io.SafetensorsWriter;
import org.peft4j.nn.Initializers;
import org.peft4j.nn.Module;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Loads and saves Hugging Face text models ({@code config.json} + {@code model.safetensors}). The key
 * layout is detected from the file: GPT-2 with or without {@code transformer.} (save_pretrained vs
 * the original OpenAI files), BERT/RoBERTa with or without {@code bert.} / {@code roberta.}. Buffers
 * that are not weights (GPT-2's {@code attn.bias} masks, {@code position_ids}) and task heads
 * ({@code lm_head}, {@code cls.}, {@code classifier.}) are skipped; GPT-2's Conv1D weights
 * {@code [in, out]} are transposed to linear layout.
 */
public final class TextCheckpoint {

    private static final Logger LOG = LoggerFactory.getLogger(TextCheckpoint.class);
    public static final String WEIGHTS_FILE = "model.safetensors";
    /** GPT-2's Conv1D layers, stored transposed. */
    private static final Pattern CONV1D = Pattern.compile(".*\\.(attn\\.c_attn|attn\\.c_proj|mlp\\.c_fc|mlp\\.c_proj)\\.weight");
    private static final Pattern SKIPPED = Pattern.compile(
            "(.*\\.attn\\.(bias|masked_bias))|(.*position_ids)|(lm_head\\..*)|(cls\\..*)|(classifier\\..*)|(qa_outputs\\..*)");

    private TextCheckpoint() {}

    /** A model of the folder's family with the folder's weights. */
    public static Module load(Path dir, NDManager manager) throws IOException {
        TextConfig config = TextConfig.fromDirectory(dir);
        Path file = dir.resolve(WEIGHTS_FILE);
        if (!Files.isRegularFile(file)) {
            String hint = Files.exists(dir.resolve("pytorch_model.bin")) ? " (found pytorch_model.bin: convert it to safetensors first)" : "";
            throw new IOException(file + ": not found" + hint);
        }
        Module model = create(config);
        model.initialize(manager);
        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            Map<String, String> keys = keyMap(file, reader.names(), config);
            List<String> missing = new ArrayList<>();
            for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
                String key = keys.remove(e.getKey());
                if (key == null) {
                    missing.add(e.getKey());
                    continue;
                }
                NDArray target = e.getValue().getArray();
                boolean conv1d = config.type() == TextConfig.Type.GPT2 && CONV1D.matcher(e.getKey()).matches();
                long[] shape = reader.info(key).shape();
                long[] expected = target.getShape().getShape();
                long[] stored = conv1d ? new long[] {expected[1], expected[0]} : expected;
                if (!Arrays.equals(shape, stored)) {
                    throw new IOException(file + ": tensor '" + key + "' has shape " + new Shape(shape) + " but config.json implies "
                            + new Shape(stored) + (conv1d ? " (Conv1D layout [in, out])" : ""));
                }
                reader.requireFloatingPoint(key);
                try (NDManager scratch = manager.newSubManager()) {
                    NDArray value = reader.readNDArray(key, scratch);
                    reader.requireFinite(key, value);
                    Initializers.copyInto(target, conv1d ? value.transpose() : value);
                }
            }
            if (!keys.isEmpty()) {
                throw new IOException(file + ": " + keys.size() + " tensor(s) do not belong to a " + config.numLayers() + "-layer "
                        + config.type().modelType + ": " + sample(new ArrayList<>(keys.values()))
                        + " (does the layer count in config.json match the checkpoint?)");
            }
            if (missing.size() == 2 && missing.stream().allMatch(k -> k.startsWith("pooler."))) {
                LOG.warn("{} has no pooler; pooler.dense is initialised randomly", file);
            } else if (!missing.isEmpty()) {
                throw new IOException(file + ": missing " + missing.size() + " tensor(s): " + sample(missing));
            }
        }
        return model;
    }

    /** An uninitialised model of {@code config}'s family. */
    public static Module create(TextConfig config) {
        return config.type() == TextConfig.Type.GPT2 ? new Gpt2Model(config) : new BertModel(config);
    }

    /** Model name → checkpoint key, for every key that is a weight; the layout is detected from the names. */
    private static Map<String, String> keyMap(Path file, List<String> names, TextConfig config) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        String family = config.type() == TextConfig.Type.GPT2 ? "transformer." : config.type().modelType + ".";
        boolean prefixed = names.stream().anyMatch(n -> n.startsWith(family));
        boolean bare = names.stream().anyMatch(n -> config.type() == TextConfig.Type.GPT2
                ? n.startsWith("h.") || n.startsWith("wte.") : n.startsWith("encoder.layer.") || n.startsWith("embeddings."));
        if (prefixed == bare) {
            throw new IOException(file + ": not a " + config.type().modelType + " checkpoint ("
                    + (prefixed ? "keys both with and without '" + family + "'" : "no '" + family + "' keys or bare ones")
                    + "); first tensors: " + sample(names));
        }
        for (String n : names) {
            if (SKIPPED.matcher(n).matches() || (n.startsWith("lm_head") && config.type() == TextConfig.Type.GPT2)) {
                continue;
            }
            String name;
            if (config.type() == TextConfig.Type.GPT2) {
                name = prefixed ? n : "transformer." + n;
            } else if (prefixed) {
                if (!n.startsWith(family)) {
                    continue; // a head of BertForX
                }
                name = n.substring(family.length());
            } else {
                name = n;
            }
            out.put(name, n);
        }
        return out;
    }

    /**
     * Writes {@code config.json} + {@code model.safetensors}, each atomically, in the layout
     * transformers' {@code save_pretrained} writes (GPT-2: {@code transformer.} names and Conv1D
     * weights; BERT/RoBERTa: the bare {@code BertModel} names).
     */
    public static void save(Module model, TextConfig config, Path dir, Map<String, Object> extraConfig) throws IOException {
        Files.createDirectories(dir);
        SafetensorsWriter writer = new SafetensorsWriter();
        try (NDManager scratch = NDManager.newBaseManager()) {
            for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
                NDArray a = e.getValue().getArray();
                boolean conv1d = config.type() == TextConfig.Type.GPT2 && CONV1D.matcher(e.getKey()).matches();
                if (conv1d) {
                    a = a.transpose().duplicate();
                    a.attach(scratch);
                }
                writer.add(e.getKey(), a);
            }
            writer.write(dir.resolve(WEIGHTS_FILE));
        }
        Map<String, Object> json = new LinkedHashMap<>(config.toJson());
        json.putAll(extraConfig);
        AtomicFiles.writeString(dir.resolve("config.json"), Json.toPythonStyle(Json.MAPPER.convertValue(json, Map.class)) + "\n");
    }

    private static String sample(List<String> names) {
        List<String> head = names.subList(0, Math.min(5, names.size()));
        return head + (names.size() > head.size() ? " and " + (names.size() - head.size()) + " more" : "");
    }
}
