package org.peft4j.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import org.peft4j.demo.FashionMnistDemo;
import org.peft4j.models.sam.SamCheckpoint;
import org.peft4j.models.sam.SamConfig;
import org.peft4j.models.sam.SamModel;
import org.peft4j.peft.PeftModel;
import org.peft4j.train.SamPretraining;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Resolves a SAM {@code --model}: {@value SamPretraining#MODEL} (the project's pretrained default,
 * pretrained into the cache on first use), a SAM model folder, or a preset (random weights).
 */
final class SamModels {

    private static final Logger LOG = LoggerFactory.getLogger(SamModels.class);
    static final String DESCRIPTION = "SAM model: " + SamPretraining.MODEL + " (the project's pretrained default; "
            + "pretrained once into ~/.cache/peft4j, about 8 minutes on 2 cores), a SAM folder (config.json + "
            + "model.safetensors, official or Hugging Face names) or a preset (sam-tiny, sam-mini, sam-vit-b/l/h: random weights).";

    private SamModels() {}

    /** The model folder behind {@code model} when it is one (the default is pretrained first), else null. */
    static Path folder(String model, boolean progress) throws IOException {
        if (model.equals(SamPretraining.MODEL)) {
            return SamPretraining.ensure(FashionMnistDemo.DEFAULT_CACHE_DIR, SamPretraining.Recipe.DEFAULT, progress);
        }
        Path dir = Path.of(model);
        return Files.isDirectory(dir) ? dir : null;
    }

    /**
     * Whether {@code model} names SAM: the default, a SAM preset, or a folder whose config.json is a
     * SAM config (official/peft4j {@code image_encoder}, or Hugging Face's {@code vision_config}).
     */
    static boolean isSam(String model) {
        if (model.equals(SamPretraining.MODEL) || SamConfig.isPreset(model)) {
            return true;
        }
        Path config = Path.of(model).resolve("config.json");
        if (!Files.isRegularFile(config)) {
            return false;
        }
        try {
            com.fasterxml.jackson.databind.JsonNode json = org.peft4j.io.Json.readFile(config);
            return json.has("image_encoder") || json.has("vision_config") && json.has("mask_decoder_config");
        } catch (IOException e) {
            return false; // the ViT loader names what is wrong with it
        }
    }

    static SamModel load(String model, Path adapter, NDManager manager, boolean progress) throws IOException {
        SamModel sam;
        Path dir = folder(model, progress);
        if (dir != null) {
            try {
                sam = SamCheckpoint.load(dir, manager);
            } catch (IOException | IllegalArgumentException e) {
                throw new UsageException(e.getMessage());
            }
        } else if (SamConfig.isPreset(model)) {
            LOG.warn("'{}' is a preset: random weights (seed {}), not a pretrained model", model, Models.PRESET_SEED);
            sam = new SamModel(SamConfig.preset(model));
            Engine.getInstance().setRandomSeed(Models.PRESET_SEED);
            sam.initialize(manager);
        } else {
            throw new UsageException(model + ": not a SAM model folder (config.json + model.safetensors), nor "
                    + SamPretraining.MODEL + ", nor a preset " + SamConfig.presets());
        }
        if (adapter != null) {
            if (!Files.isDirectory(adapter)) {
                throw new UsageException(adapter + ": adapter folder not found");
            }
            PeftModel peft = new PeftModel(sam, null, manager);
            peft.load(adapter, PeftModel.DEFAULT_ADAPTER);
        }
        return sam;
    }

    /** How an adapter records its base model: the folder's absolute path, or the name. */
    static String identity(String model) {
        return Models.identity(model);
    }
}
