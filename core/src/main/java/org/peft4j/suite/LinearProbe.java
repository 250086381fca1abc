package org.peft4j.suite;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import org.peft4j.data.DataSpec;
import org.peft4j.data.FashionMnist;
import org.peft4j.data.ImageDataset;
import org.peft4j.data.ImageDatasets;
import org.peft4j.demo.FashionMnistDemo;
import org.peft4j.io.AtomicFiles;
import org.peft4j.io.Json;
import org.peft4j.models.vit.VitCheckpoint;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.train.FineTuning;
import org.peft4j.train.TrainConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How good the project's backbone is on its own source task: a fresh head trained on the frozen
 * backbone (Fashion-MNIST classes 0-4, 1000 training images per class), scored on those classes'
 * test split. Computed once and cached beside the backbone as {@code linear_probe.json}; a newly
 * pretrained backbone replaces its whole folder, and with it this file.
 */
public final class LinearProbe {

    public static final String FILE = "linear_probe.json";
    private static final int PER_CLASS = 1000;
    private static final int EPOCHS = 5;
    private static final double LEARNING_RATE = 1e-2;

    private LinearProbe() {}

    /** The cached record ({@code accuracy}, how it was trained), computing it first when missing. */
    public static Map<String, Object> ensure(Path backboneDir, Path fashionMnistDir, boolean progress)
            throws IOException {
        Path file = backboneDir.resolve(FILE);
        if (Files.isRegularFile(file)) {
            @SuppressWarnings("unchecked")
            Map<String, Object> cached = Json.MAPPER.readValue(file.toFile(), Map.class);
            return cached;
        }
        long seed = FashionMnistDemo.SEED;
        ImageDataset train = ImageDatasets.limitPerClass(ImageDatasets.selectClasses(
                FashionMnist.load(fashionMnistDir, true), FashionMnistDemo.PRETRAIN_CLASSES), PER_CLASS, seed);
        ImageDataset test = ImageDatasets.selectClasses(FashionMnist.load(fashionMnistDir, false),
                FashionMnistDemo.PRETRAIN_CLASSES);
        Path work = Files.createTempDirectory("peft4j-probe-");
        try (NDManager manager = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed((int) seed);
            VitForImageClassification vit = VitCheckpoint.load(backboneDir, manager,
                    new VitCheckpoint.Options(train.classes(), null));
            TrainConfig config = new TrainConfig(EPOCHS, 64, LEARNING_RATE, 0.0, 0.1, 1, 1.0, seed, 50, false);
            FineTuning.Outcome o = FineTuning.run(vit, "head", null, config,
                    new DataSpec.Splits(train, SuiteRunner.empty(test), test), work, manager, progress, false);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("accuracy", o.testAccuracy());
            m.put("classes", train.classes());
            m.put("train_images", train.size());
            m.put("test_images", test.size());
            m.put("epochs", EPOCHS);
            m.put("learning_rate", LEARNING_RATE);
            m.put("seconds", o.seconds());
            AtomicFiles.writeString(file, Json.toPythonStyle(m) + "\n");
            return m;
        } finally {
            AtomicFiles.deleteRecursively(work);
        }
    }
}
