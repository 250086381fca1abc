package org.peft4j.models.vit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.peft4j.io.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Sizes of a ViT, read from a Hugging Face {@code config.json} (field names as in transformers'
 * ViTConfig) or taken from a named preset. Image mean/std come from {@code preprocessor_config.json}
 * when present, else from the config, else transformers' ViT default of 0.5.
 */
public record VitConfig(
        int hiddenSize,
        int numLayers,
        int numHeads,
        int intermediateSize,
        int imageSize,
        int patchSize,
        int numChannels,
        float layerNormEps,
        boolean qkvBias,
        List<String> labels,
        float[] imageMean,
        float[] imageStd,
        VitNaming naming) {

    /** Largest model accepted: 4 billion parameters (16 GB of float32; ViT-g/14 has 1 billion). */
    public static final long MAX_PARAMETERS = 4_000_000_000L;
    /** Most input channels (images have 1–4; multispectral a few dozen). */
    public static final int MAX_CHANNELS = 64;
    /** Most patch tokens per image (a 4096² image at patch 16). */
    public static final long MAX_TOKENS = 65_536;

    public VitConfig {
        if (hiddenSize <= 0 || numLayers <= 0 || numHeads <= 0 || intermediateSize <= 0
                || imageSize <= 0 || patchSize <= 0 || numChannels <= 0) {
            throw new IllegalArgumentException("ViT sizes must be positive: hidden_size=" + hiddenSize
                    + ", num_hidden_layers=" + numLayers + ", num_attention_heads=" + numHeads
                    + ", intermediate_size=" + intermediateSize + ", image_size=" + imageSize
                    + ", patch_size=" + patchSize + ", num_channels=" + numChannels);
        }
        if (hiddenSize % numHeads != 0) {
            throw new IllegalArgumentException(
                    "hidden_size " + hiddenSize + " is not a multiple of num_attention_heads " + numHeads);
        }
        if (imageSize % patchSize != 0) {
            throw new IllegalArgumentException(
                    "image_size " + imageSize + " is not a multiple of patch_size " + patchSize);
        }
        // Bounded before anything is allocated: a typo in config.json must not end in an OutOfMemoryError.
        long grid = imageSize / patchSize;
        if (grid * grid > MAX_TOKENS) {
            throw new IllegalArgumentException("image_size " + imageSize + " with patch_size " + patchSize + " makes "
                    + grid * grid + " tokens per image; at most " + MAX_TOKENS + " are supported");
        }
        double params = (double) numLayers * (4.0 * hiddenSize * hiddenSize + 2.0 * hiddenSize * intermediateSize)
                + (double) numChannels * patchSize * patchSize * hiddenSize;
        if (params > MAX_PARAMETERS) {
            throw new IllegalArgumentException(String.format("num_hidden_layers=%d, hidden_size=%d, intermediate_size=%d "
                    + "make %.3g parameters (%.3g GB of float32); at most %.0e are supported",
                    numLayers, hiddenSize, intermediateSize, params, params * 4 / 1e9, (double) MAX_PARAMETERS));
        }
        if (labels.isEmpty()) {
            throw new IllegalArgumentException("a classifier needs at least one label");
        }
        if (imageMean.length != numChannels || imageStd.length != numChannels) {
            throw new IllegalArgumentException("image_mean/image_std need " + numChannels + " values");
        }
        labels = List.copyOf(labels);
    }

    public int numLabels() {
        return labels.size();
    }

    public int gridSize() {
        return imageSize / patchSize;
    }

    public int numPatches() {
        return gridSize() * gridSize();
    }

    public VitConfig withLabels(List<String> newLabels) {
        return new VitConfig(hiddenSize, numLayers, numHeads, intermediateSize, imageSize, patchSize,
                numChannels, layerNormEps, qkvBias, newLabels, imageMean, imageStd, naming);
    }

    public VitConfig withImageSize(int newImageSize) {
        return new VitConfig(hiddenSize, numLayers, numHeads, intermediateSize, newImageSize, patchSize,
                numChannels, layerNormEps, qkvBias, labels, imageMean, imageStd, naming);
    }

    public VitConfig withNaming(VitNaming newNaming) {
        return new VitConfig(hiddenSize, numLayers, numHeads, intermediateSize, imageSize, patchSize,
                numChannels, layerNormEps, qkvBias, labels, imageMean, imageStd, newNaming);
    }

    public static List<String> defaultLabels(int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add("LABEL_" + i);
        }
        return out;
    }

    /** Reads {@code dir/config.json} (and {@code preprocessor_config.json} when present). */
    public static VitConfig fromDirectory(Path dir) throws IOException {
        Path file = dir.resolve("config.json");
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + ": not found (a model folder needs config.json + model.safetensors)");
        }
        JsonNode root = Json.readFile(file); // names the file on any error
        if (root == null || !root.isObject()) {
            throw new IOException(file + ": expected a JSON object");
        }
        VitConfig config;
        try {
            config = fromJson(root);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
        Path pre = dir.resolve("preprocessor_config.json");
        if (Files.isRegularFile(pre)) {
            float[] mean;
            float[] std;
            try {
                JsonNode p = Json.readFile(pre);
                mean = floats(p, "image_mean", config.numChannels, config.imageMean);
                std = floats(p, "image_std", config.numChannels, config.imageStd);
            } catch (IllegalArgumentException e) {
                throw new IOException(pre + ": " + e.getMessage(), e);
            }
            config = new VitConfig(config.hiddenSize, config.numLayers, config.numHeads, config.intermediateSize,
                    config.imageSize, config.patchSize, config.numChannels, config.layerNormEps, config.qkvBias,
                    config.labels, mean, std, config.naming);
        }
        return config;
    }

    /**
     * Parses transformers' ViTConfig fields. A timm hub config ({@code "architecture":
     * "vit_base_patch16_224"}) is accepted too when it names one of the presets.
     */
    public static VitConfig fromJson(JsonNode root) {
        if (root.has("architecture") && !root.has("hidden_size")) {
            VitConfig preset = VitPresets.byTimmName(root.get("architecture").asText());
            int n = root.path("num_classes").asInt(preset.numLabels());
            List<String> labels = root.has("label_names") ? strings(root.get("label_names")) : defaultLabels(n);
            JsonNode cfg = root.path("pretrained_cfg");
            float[] mean = floats(cfg, "mean", preset.numChannels(), preset.imageMean());
            float[] std = floats(cfg, "std", preset.numChannels(), preset.imageStd());
            return new VitConfig(preset.hiddenSize(), preset.numLayers(), preset.numHeads(), preset.intermediateSize(),
                    preset.imageSize(), preset.patchSize(), preset.numChannels(), preset.layerNormEps(),
                    preset.qkvBias(), labels, mean, std, VitNaming.TIMM);
        }
        String act = root.path("hidden_act").asText("gelu");
        if (!act.equals("gelu")) {
            throw new IllegalArgumentException("hidden_act '" + act + "' is not supported (only gelu)");
        }
        int channels = intField(root, "num_channels", 3);
        if (channels <= 0 || channels > MAX_CHANNELS) { // checked before the per-channel defaults are allocated
            throw new IllegalArgumentException("num_channels must be 1.." + MAX_CHANNELS + ", got " + channels);
        }
        List<String> labels = labels(root);
        float[] mean = floats(root, "image_mean", channels, filled(channels, 0.5f));
        float[] std = floats(root, "image_std", channels, filled(channels, 0.5f));
        return new VitConfig(
                intField(root, "hidden_size", 768),
                intField(root, "num_hidden_layers", 12),
                intField(root, "num_attention_heads", 12),
                intField(root, "intermediate_size", 3072),
                intField(root, "image_size", 224),
                intField(root, "patch_size", 16),
                channels,
                (float) root.path("layer_norm_eps").asDouble(1e-12),
                root.path("qkv_bias").asBoolean(true),
                labels,
                mean,
                std,
                VitNaming.HF);
    }

    /** The config as transformers writes it, for a saved (e.g. merged) model. */
    public ObjectNode toJson() {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.putArray("architectures").add("ViTForImageClassification");
        o.put("model_type", "vit");
        o.put("hidden_size", hiddenSize);
        o.put("num_hidden_layers", numLayers);
        o.put("num_attention_heads", numHeads);
        o.put("intermediate_size", intermediateSize);
        o.put("hidden_act", "gelu");
        o.put("image_size", imageSize);
        o.put("patch_size", patchSize);
        o.put("num_channels", numChannels);
        o.put("layer_norm_eps", (double) layerNormEps);
        o.put("qkv_bias", qkvBias);
        o.put("hidden_dropout_prob", 0.0);
        o.put("attention_probs_dropout_prob", 0.0);
        ObjectNode id2label = o.putObject("id2label");
        ObjectNode label2id = o.putObject("label2id");
        for (int i = 0; i < labels.size(); i++) {
            id2label.put(Integer.toString(i), labels.get(i));
            label2id.put(labels.get(i), i);
        }
        ArrayNode mean = o.putArray("image_mean");
        ArrayNode std = o.putArray("image_std");
        for (int c = 0; c < numChannels; c++) {
            mean.add((double) imageMean[c]);
            std.add((double) imageStd[c]);
        }
        return o;
    }

    private static int intField(JsonNode root, String name, int fallback) {
        JsonNode n = root.get(name);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.canConvertToInt()) {
            throw new IllegalArgumentException("'" + name + "' must be an integer, got " + n);
        }
        return n.asInt();
    }

    private static List<String> labels(JsonNode root) {
        JsonNode id2label = root.get("id2label");
        if (id2label != null && id2label.isObject() && id2label.size() > 0) {
            String[] out = new String[id2label.size()];
            for (Map.Entry<String, JsonNode> e : iterable(id2label)) {
                int i;
                try {
                    i = Integer.parseInt(e.getKey());
                } catch (NumberFormatException ex) {
                    throw new IllegalArgumentException("id2label key '" + e.getKey() + "' is not an integer");
                }
                if (i < 0 || i >= out.length) {
                    throw new IllegalArgumentException("id2label ids must be 0.." + (out.length - 1) + ", got " + i);
                }
                if (out[i] != null) { // "0" and "-0" or "00": one id twice, another missing
                    throw new IllegalArgumentException("id2label gives id " + i + " twice ('" + e.getKey() + "')");
                }
                out[i] = e.getValue().asText();
            }
            return Arrays.asList(out);
        }
        return defaultLabels(intField(root, "num_labels", 2));
    }

    private static Iterable<Map.Entry<String, JsonNode>> iterable(JsonNode object) {
        return object::fields;
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static float[] floats(JsonNode parent, String field, int n, float[] fallback) {
        JsonNode array = parent.get(field);
        if (array == null || array.isNull()) {
            return fallback;
        }
        if (array.isNumber()) {
            return filled(n, array.floatValue());
        }
        if (!array.isArray() || array.size() != n) {
            throw new IllegalArgumentException("'" + field + "' needs " + n + " numbers (one per channel), got " + array);
        }
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = array.get(i).floatValue();
        }
        return out;
    }

    static float[] filled(int n, float v) {
        float[] out = new float[n];
        Arrays.fill(out, v);
        return out;
    }
}
