package org.peft4j.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import org.peft4j.models.vit.VitCheckpoint;
import org.peft4j.models.vit.VitConfig;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.models.vit.VitPresets;
import org.peft4j.nn.Module;
import org.peft4j.peft.AdapterLabels;
import org.peft4j.peft.PeftModel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Resolves the CLI's {@code --model DIR|PRESET} and {@code --adapter DIR} into a runnable model. */
final class Models {

    private static final Logger LOG = LoggerFactory.getLogger(Models.class);
    /** A preset's random weights are drawn from this seed, so that an adapter trained on a preset fits it in a later run. */
    static final int PRESET_SEED = 42;

    /** The ViT and, when an adapter was given, the PEFT wrapper that runs it. */
    record Loaded(VitForImageClassification vit, PeftModel peft) {
        Module runnable() {
            return vit; // adapters live inside the ViT's layers, so the ViT runs them
        }
    }

    private Models() {}

    /** {@code labels} (nullable) replaces the model's labels with a fresh head. */
    static VitForImageClassification base(String model, List<String> labels, NDManager manager) throws IOException {
        Path dir = Path.of(model);
        if (Files.isDirectory(dir)) {
            return VitCheckpoint.load(dir, manager, new VitCheckpoint.Options(labels, null));
        }
        if (VitPresets.exists(model)) {
            LOG.warn("'{}' is a preset: random weights (seed {}), not a pretrained model", model, PRESET_SEED);
            VitConfig c = VitPresets.get(model);
            VitForImageClassification vit = new VitForImageClassification(labels == null ? c : c.withLabels(labels));
            Engine.getInstance().setRandomSeed(PRESET_SEED);
            vit.initialize(manager);
            return vit;
        }
        throw new IOException(model + ": not a model folder (config.json + model.safetensors) nor a preset "
                + VitPresets.names());
    }

    /** How an adapter records its base model (PEFT's base_model_name_or_path): a folder's absolute path, or the preset's name. */
    static String identity(String model) {
        Path dir = Path.of(model);
        return Files.isDirectory(dir) ? dir.toAbsolutePath().normalize().toString() : model;
    }

    static Loaded load(String model, Path adapter, NDManager manager) throws IOException {
        if (adapter == null) {
            return new Loaded(base(model, null, manager), null);
        }
        if (!Files.isDirectory(adapter)) {
            throw new IOException(adapter + ": adapter folder not found");
        }
        VitForImageClassification vit = base(model, AdapterLabels.read(adapter), manager);
        PeftModel peft = new PeftModel(vit, vit.headPath(), manager);
        peft.load(adapter, PeftModel.DEFAULT_ADAPTER);
        return new Loaded(vit, peft);
    }
}
