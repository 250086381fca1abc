package org.peft4j.models.vit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import org.peft4j.io.AtomicFiles;
import org.peft4j.io.Json;
import org.peft4j.io.SafetensorsReader;
import org.peft4j.io.SafetensorsWriter;
import org.peft4j.nn.Initializers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Loads and saves ViT weights in Hugging Face ({@code config.json} + {@code model.safetensors})
 * folders. The naming, Hugging Face or timm, is detected from the tensor names; like timm's
 * {@code checkpoint_filter_fn}, the mapping onto our modules is a pure function of the names.
 */
public final class VitCheckpoint {

    private static final Logger LOG = LoggerFactory.getLogger(VitCheckpoint.class);
    public static final String WEIGHTS_FILE = "model.safetensors";

    /**
     * What a caller may change while loading: new labels (a fresh, randomly initialised head, like
     * transformers' {@code ignore_mismatched_sizes}), or another image size (positions resized).
     */
    public record Options(List<String> labels, Integer imageSize) {
        public static final Options DEFAULT = new Options(null, null);
    }

    private VitCheckpoint() {}

    public static VitForImageClassification load(Path dir, NDManager manager) throws IOException {
        return load(dir, manager, Options.DEFAULT);
    }

    public static VitForImageClassification load(Path dir, NDManager manager, Options options) throws IOException {
        VitConfig config = VitConfig.fromDirectory(dir);
        Path file = dir.resolve(WEIGHTS_FILE);
        if (!Files.isRegularFile(file)) {
            String hint = Files.exists(dir.resolve("pytorch_model.bin"))
                    ? " (found pytorch_model.bin: convert it to safetensors first)" : "";
            throw new IOException(file + ": not found" + hint);
        }
        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            VitNaming naming = detectNaming(file, reader.names());
            boolean prefixless = naming == VitNaming.HF && !reader.contains(VitNaming.HF.clsToken);
            config = config.withNaming(naming);
            Map<String, String> keys = new LinkedHashMap<>(); // model name → checkpoint name
            for (String k : reader.names()) {
                if (k.startsWith("pooler.") || k.startsWith("vit.pooler.")) {
                    continue; // ViTModel's pooler is not used for classification
                }
                keys.put(prefixless && !k.equals("classifier.weight") && !k.equals("classifier.bias") ? "vit." + k : k, k);
            }
            int checkpointGrid = checkpointGrid(file, reader, keys.get(naming.posEmbed), config);
            if (options.imageSize() != null) {
                config = config.withImageSize(options.imageSize());
            }
            boolean newHead = options.labels() != null && !options.labels().equals(config.labels());
            if (newHead) {
                config = config.withLabels(options.labels());
            }
            VitForImageClassification model = new VitForImageClassification(config);
            model.initialize(manager);
            String headPrefix = naming.head + ".";
            List<String> missing = new ArrayList<>();
            Set<String> used = new LinkedHashSet<>();
            for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
                String name = e.getKey();
                String key = keys.get(name);
                if (newHead && name.startsWith(headPrefix)) {
                    if (key != null) {
                        used.add(name);
                    }
                    continue;
                }
                if (key == null) {
                    missing.add(name);
                    continue;
                }
                used.add(name);
                reader.requireFloatingPoint(key);
                NDArray target = e.getValue().getArray();
                if (name.equals(naming.posEmbed) && checkpointGrid != config.gridSize()) {
                    float[] resized = PositionEmbeddings.resize(
                            reader.readFloats(key), config.hiddenSize(), checkpointGrid, config.gridSize());
                    org.peft4j.nn.Initializers.copyInto(target, resized);
                    LOG.info("resized position embeddings from a {}x{} to a {}x{} patch grid",
                            checkpointGrid, checkpointGrid, config.gridSize(), config.gridSize());
                    continue;
                }
                long[] shape = reader.info(key).shape();
                if (!Arrays.equals(shape, target.getShape().getShape())) {
                    throw new IOException(file + ": tensor '" + key + "' has shape " + new Shape(shape)
                            + " but config.json implies " + target.getShape());
                }
                try (NDArray value = reader.readNDArray(key, manager)) {
                    reader.requireFinite(key, value);
                    Initializers.copyInto(target, value);
                }
            }
            List<String> unexpected = keys.keySet().stream().filter(k -> !used.contains(k)).collect(Collectors.toList());
            if (!unexpected.isEmpty()) {
                throw new IOException(file + ": " + unexpected.size() + " tensor(s) do not belong to a "
                        + config.numLayers() + "-layer ViT: " + sample(unexpected)
                        + " (does num_hidden_layers in config.json match the checkpoint?)");
            }
            boolean onlyHeadMissing = !missing.isEmpty() && missing.stream().allMatch(m -> m.startsWith(headPrefix));
            if (onlyHeadMissing) {
                LOG.warn("{} has no classifier head; '{}' is initialised randomly", file, naming.head);
            } else if (!missing.isEmpty()) {
                throw new IOException(file + ": missing " + missing.size() + " tensor(s): " + sample(missing));
            }
            if (newHead) {
                LOG.info("new {}-way head '{}' (checkpoint head not used)", config.numLabels(), naming.head);
            }
            return model;
        }
    }

    /** Hugging Face names start with {@code vit.} or {@code embeddings.}; timm's with {@code blocks.}. */
    static VitNaming detectNaming(Path file, List<String> names) throws IOException {
        boolean hf = names.stream().anyMatch(n -> n.startsWith("vit.encoder.layer.") || n.startsWith("encoder.layer."));
        boolean timm = names.stream().anyMatch(n -> n.startsWith("blocks."));
        if (hf == timm) {
            throw new IOException(file + ": not a ViT checkpoint in Hugging Face (vit.encoder.layer.N...) or timm "
                    + "(blocks.N...) naming; first tensors: " + sample(names));
        }
        if (timm && names.stream().anyMatch(n -> n.startsWith("fc_norm."))) {
            throw new IOException(file + ": timm ViT with global average pooling (fc_norm) is not supported; "
                    + "only class-token pooling");
        }
        return hf ? VitNaming.HF : VitNaming.TIMM;
    }

    private static int checkpointGrid(Path file, SafetensorsReader reader, String key, VitConfig config) throws IOException {
        if (key == null) {
            throw new IOException(file + ": no position embedding ('" + config.naming().posEmbed + "')");
        }
        long[] shape = reader.info(key).shape();
        long tokens = shape.length == 3 ? shape[1] - 1 : -1;
        int grid = (int) Math.round(Math.sqrt(Math.max(tokens, 0)));
        if (shape.length != 3 || shape[0] != 1 || shape[2] != config.hiddenSize() || (long) grid * grid != tokens) {
            throw new IOException(file + ": position embedding '" + key + "' has shape " + new Shape(shape)
                    + ", expected [1, 1 + grid², " + config.hiddenSize() + "]");
        }
        return grid;
    }

    private static String sample(List<String> names) {
        List<String> head = names.subList(0, Math.min(5, names.size()));
        return head + (names.size() > head.size() ? " and " + (names.size() - head.size()) + " more" : "");
    }

    /**
     * Writes {@code config.json} + {@code model.safetensors}, each atomically, so that the folder
     * loads here and in transformers.
     */
    public static void save(VitForImageClassification model, Path dir) throws IOException {
        Files.createDirectories(dir);
        SafetensorsWriter writer = new SafetensorsWriter();
        model.namedParameters().forEach((name, p) -> writer.add(name, p.getArray()));
        writer.write(dir.resolve(WEIGHTS_FILE));
        AtomicFiles.writeString(dir.resolve("config.json"),
                Json.toPythonStyle(Json.MAPPER.convertValue(model.config().toJson(), Map.class)) + "\n");
    }
}
