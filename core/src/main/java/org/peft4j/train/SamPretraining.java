package org.peft4j.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import org.peft4j.data.seg.SegDomains;
import org.peft4j.io.AtomicFiles;
import org.peft4j.io.Json;
import org.peft4j.models.sam.SamCheckpoint;
import org.peft4j.models.sam.SamConfig;
import org.peft4j.models.sam.SamModel;
import org.peft4j.segmentation.SegEvaluator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The project's default SAM, {@value #MODEL}: the {@code sam-mini} sizes trained from scratch, every
 * weight, on the generated {@code shapes} source task (opaque shapes on gradients, each its own
 * region), which is none of the segmentation suite's domains. It is pretrained once per machine and
 * cached as an ordinary SAM model folder ({@code config.json}, {@code model.safetensors} in official
 * names, {@code pretraining.json} with the recipe and its score on held-out source images).
 */
public final class SamPretraining {

    /** The name the CLI accepts for it. */
    public static final String MODEL = "sam-shapes";
    /** Cache folder name; bump when the recipe changes, so a stale model is not reused. */
    public static final String CACHE_NAME = "sam-shapes-v1";
    public static final String RECORD = "pretraining.json";

    /** The recipe. */
    public record Recipe(String preset, int images, int epochs, int batchSize, double learningRate, long seed) {
        public static final Recipe DEFAULT = new Recipe("sam-mini", 3000, 10, 16, 1e-3, 7);
    }

    private static final Logger LOG = LoggerFactory.getLogger(SamPretraining.class);

    private SamPretraining() {}

    /** The cached model's folder, pretrained first (with {@code recipe}) when the cache has none. */
    public static Path ensure(Path cacheDir, Recipe recipe, boolean progress) throws IOException {
        Path dir = cacheDir.resolve(CACHE_NAME);
        if (Files.isRegularFile(dir.resolve(RECORD)) && Files.isRegularFile(dir.resolve(SamCheckpoint.WEIGHTS_FILE))) {
            return dir;
        }
        LOG.info("pretraining the default SAM on the '{}' source task ({} images x {} epochs; cached in {} for later runs)",
                SegDomains.SOURCE, recipe.images(), recipe.epochs(), dir);
        long t0 = System.nanoTime();
        try (NDManager manager = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed((int) recipe.seed());
            SamConfig config = SamConfig.preset(recipe.preset());
            SamModel sam = new SamModel(config);
            sam.initialize(manager);
            sam.setTrainable(true);
            int size = config.encoder().imgSize();
            TrainConfig train = new TrainConfig(recipe.epochs(), recipe.batchSize(), recipe.learningRate(), 0.01, 0.05,
                    1, 1.0, recipe.seed(), 50, false);
            SegTrainer.Result result = new SegTrainer(train, sam, sam.namedParameters(), manager).showProgress(progress)
                    .fit(SegDomains.source(size, recipe.seed(), recipe.images()));
            var heldOut = SegDomains.source(size, recipe.seed() + 1_000_003L, 200);
            SegEvaluator.Evaluation eval = SegEvaluator.evaluate(sam, heldOut, 32, 0, manager);
            Map<String, Object> record = new LinkedHashMap<>();
            record.put("model", MODEL);
            record.put("preset", recipe.preset());
            record.put("source_task", SegDomains.SOURCE);
            record.put("images", recipe.images());
            record.put("epochs", recipe.epochs());
            record.put("batch_size", recipe.batchSize());
            record.put("learning_rate", recipe.learningRate());
            record.put("seed", recipe.seed());
            record.put("final_loss", result.epochs().get(result.epochs().size() - 1).loss());
            record.put("held_out_miou_point", eval.meanIouPoint());
            record.put("held_out_miou_box", eval.meanIouBox());
            record.put("seconds", (System.nanoTime() - t0) / 1e9);
            AtomicFiles.replaceDirectory(dir, tmp -> {
                SamCheckpoint.save(sam, tmp, SamCheckpoint.Naming.OFFICIAL);
                Files.writeString(tmp.resolve(RECORD), Json.toPythonStyle(record) + "\n");
            });
            LOG.info("default SAM pretrained: held-out mIoU {} (point), {} (box), {} s", eval.meanIouPoint(),
                    eval.meanIouBox(), record.get("seconds"));
        }
        return dir;
    }
}
