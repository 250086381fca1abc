package org.peft4j.suite;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import org.peft4j.models.vit.VitCheckpoint;
import org.peft4j.models.vit.VitConfig;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.models.vit.VitNaming;

import java.io.IOException;
import java.nio.file.Path;

/** A random 28x28 gray ViT small enough to train in milliseconds (d = 16, one block, 7x7 patches). */
public final class TinyVit {

    public static final VitConfig CONFIG = new VitConfig(16, 1, 2, 32, 28, 7, 1, 1e-6f, true,
            VitConfig.defaultLabels(2), new float[] {0.5f}, new float[] {0.5f}, VitNaming.HF);

    private TinyVit() {}

    /** Saves a model folder whose weights {@code seed} fixes. */
    public static Path save(Path dir, int seed) throws IOException {
        try (NDManager manager = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(seed);
            VitForImageClassification vit = new VitForImageClassification(CONFIG);
            vit.initialize(manager);
            VitCheckpoint.save(vit, dir);
        }
        return dir;
    }
}
