package org.peft4j.models.sam;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import org.peft4j.io.AtomicFiles;
import org.peft4j.io.Json;
import org.peft4j.io.SafetensorsReader;
import org.peft4j.io.SafetensorsWriter;

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

/**
 * SAM model folders: {@code config.json} (peft4j's/official form or Hugging Face's {@code SamConfig})
 * and {@code model.safetensors} with the official tensor names ({@code image_encoder.blocks.N.attn.qkv.weight})
 * or Hugging Face {@code SamModel}'s ({@code vision_encoder.layers.N.attn.qkv.weight}), detected from
 * the names. Loading is all or nothing: every tensor's name and shape is checked first, and a
 * missing, misshaped or unexpected tensor is named.
 */
public final class SamCheckpoint {

    public static final String CONFIG_FILE = "config.json";
    public static final String WEIGHTS_FILE = "model.safetensors";

    /** The two tensor namings. */
    public enum Naming { OFFICIAL, HUGGING_FACE }

    /**
     * Official name → Hugging Face name, by substring, in order (as transformers' conversion script
     * renames them); the MLP layers of the IoU head and the hypernetworks are renamed apart.
     */
    private static final String[][] TO_HF = {
        {"mask_decoder.output_upscaling.0", "mask_decoder.upscale_conv1"},
        {"mask_decoder.output_upscaling.1", "mask_decoder.upscale_layer_norm"},
        {"mask_decoder.output_upscaling.3", "mask_decoder.upscale_conv2"},
        {"mask_downscaling.0", "mask_embed.conv1"},
        {"mask_downscaling.1", "mask_embed.layer_norm1"},
        {"mask_downscaling.3", "mask_embed.conv2"},
        {"mask_downscaling.4", "mask_embed.layer_norm2"},
        {"mask_downscaling.6", "mask_embed.conv3"},
        {"point_embeddings", "point_embed"},
        {"pe_layer.positional_encoding_gaussian_matrix", "shared_embedding.positional_embedding"},
        {"image_encoder", "vision_encoder"},
        {"neck.0", "neck.conv1"},
        {"neck.1", "neck.layer_norm1"},
        {"neck.2", "neck.conv2"},
        {"neck.3", "neck.layer_norm2"},
        {"patch_embed.proj", "patch_embed.projection"},
        {".norm", ".layer_norm"},
        {"blocks", "layers"},
    };
    /** Hugging Face ties the prompt encoder's Fourier matrix to this top-level copy; a file may hold either. */
    private static final String HF_SHARED_PE = "shared_image_embedding.positional_embedding";

    private SamCheckpoint() {}

    /** The Hugging Face name of an official parameter name. */
    static String toHuggingFace(String official) {
        String k = official;
        for (String[] r : TO_HF) {
            k = k.replace(r[0], r[1]);
        }
        if (k.contains("iou_prediction_head.layers.") || k.contains("output_hypernetworks_mlps.")) {
            k = k.replace("layers.0.", "proj_in.").replace("layers.1.", "layers.0.").replace("layers.2.", "proj_out.");
        }
        return k;
    }

    public static SamConfig config(Path dir) throws IOException {
        Path file = dir.resolve(CONFIG_FILE);
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + ": not found (a SAM model folder holds config.json + model.safetensors)");
        }
        try {
            return SamConfig.fromJson(Json.readFile(file));
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    public static SamModel load(Path dir, NDManager manager) throws IOException {
        SamConfig config = config(dir);
        Path file = dir.resolve(WEIGHTS_FILE);
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + ": not found");
        }
        SamModel model = new SamModel(config);
        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            Naming naming = reader.names().stream().anyMatch(n -> n.startsWith("vision_encoder.")) ? Naming.HUGGING_FACE
                    : Naming.OFFICIAL;
            Map<String, Parameter> params = model.namedParameters();
            Map<String, String> keys = new LinkedHashMap<>(); // parameter → tensor
            List<String> missing = new ArrayList<>();
            for (Map.Entry<String, Parameter> e : params.entrySet()) {
                String key = naming == Naming.OFFICIAL ? e.getKey() : toHuggingFace(e.getKey());
                if (naming == Naming.HUGGING_FACE && !reader.contains(key) && key.endsWith("shared_embedding.positional_embedding")
                        && reader.contains(HF_SHARED_PE)) {
                    key = HF_SHARED_PE;
                }
                if (!reader.contains(key)) {
                    missing.add(key);
                    continue;
                }
                long[] shape = reader.info(key).shape();
                if (!Arrays.equals(shape, e.getValue().getShape().getShape())) {
                    throw new IOException(file + ": tensor '" + key + "' has shape " + new Shape(shape)
                            + " but config.json implies " + e.getValue().getShape());
                }
                keys.put(e.getKey(), key);
            }
            if (!missing.isEmpty()) {
                throw new IOException(file + ": missing " + missing.size() + " tensor(s) of a SAM with these sizes: "
                        + sample(missing));
            }
            Set<String> unexpected = new LinkedHashSet<>(reader.names());
            unexpected.removeAll(keys.values());
            unexpected.removeIf(n -> n.equals(HF_SHARED_PE) || n.equals("pixel_mean") || n.equals("pixel_std")
                    || n.endsWith("shared_embedding.positional_embedding"));
            if (!unexpected.isEmpty()) {
                throw new IOException(file + ": " + unexpected.size() + " tensor(s) do not belong to a SAM with these "
                        + "sizes: " + sample(new ArrayList<>(unexpected)) + " (does config.json match the checkpoint?)");
            }
            model.initialize(manager);
            for (Map.Entry<String, String> e : keys.entrySet()) {
                reader.requireFloatingPoint(e.getValue());
                float[] v = reader.readFloats(e.getValue());
                reader.requireFinite(e.getValue(), v);
                org.peft4j.nn.Initializers.copyInto(params.get(e.getKey()).getArray(), v);
            }
        }
        return model;
    }

    /** Writes {@code config.json} and {@code model.safetensors} (official names, or Hugging Face's), atomically. */
    public static void save(SamModel model, Path dir, Naming naming) throws IOException {
        Files.createDirectories(dir);
        SafetensorsWriter w = new SafetensorsWriter();
        model.namedParameters().forEach((name, p) ->
                w.add(naming == Naming.OFFICIAL ? name : toHuggingFace(name), p.getArray()));
        w.write(dir.resolve(WEIGHTS_FILE));
        AtomicFiles.writeString(dir.resolve(CONFIG_FILE), Json.toPythonStyle(model.config().toJson()) + "\n");
    }

    private static String sample(List<String> names) {
        return names.size() <= 5 ? names.toString() : names.subList(0, 5) + " and " + (names.size() - 5) + " more";
    }
}
