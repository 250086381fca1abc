package org.peft4j.segsuite;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import me.tongfei.progressbar.ProgressBar;
import org.peft4j.data.FashionMnist;
import org.peft4j.data.seg.SegDomains;
import org.peft4j.suite.SuiteFolder;
import org.peft4j.models.sam.SamCheckpoint;
import org.peft4j.models.sam.SamModel;
import org.peft4j.peft.MethodOptions;
import org.peft4j.peft.Methods;
import org.peft4j.segmentation.SegEvaluator;
import org.peft4j.train.Progress;
import org.peft4j.train.SegFineTuning;
import org.peft4j.train.TrainConfig;
import org.peft4j.tuners.TunerConfig;
import org.peft4j.tuners.lora.LoraConfig;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The segmentation suite, MESS's analogue: every method on every generated domain and seed, each run
 * from the same pretrained SAM, scored on the domain's test split. Each finished run leaves
 * {@code OUT/runs/DOMAIN/METHOD/seedS/result.json} (and its adapter, metrics and an example picture);
 * a later call with the same settings reuses it, so an interrupted suite resumes and methods,
 * domains or seeds can be added.
 */
public final class SegSuiteRunner {

    /** Sizes and training of every run; each method trains at its default rate ({@link Methods#samLearningRate}). */
    public record Profile(String name, SegDomains.Sizes sizes, int epochs, int batchSize) {
        public static final Profile FULL = new Profile("full", SegDomains.Sizes.FULL, 12, 16);
        public static final Profile QUICK = new Profile("quick", SegDomains.Sizes.QUICK, 3, 16);

        public Profile withEpochs(int e) {
            return new Profile(name, sizes, e, batchSize);
        }

        Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("profile", name);
            m.put("train_images", sizes.train());
            m.put("test_images", sizes.test());
            m.put("epochs", epochs);
            m.put("batch_size", batchSize);
            m.put("learning_rate", "3e-3 (decoder-only: 1e-3)");
            m.put("regions_per_image", org.peft4j.train.SegTrainer.REGIONS_PER_IMAGE);
            return m;
        }
    }

    /** What to run. {@code model} is a SAM folder; {@code modelName} how the report names it. */
    public record Plan(List<String> domains, List<String> methods, int seeds, Profile profile, boolean tuneDecoder,
                       Path model, String modelName, Path fashionDir, Path outDir, boolean progress) {}

    /** One finished run as recorded in its result.json. */
    public record Run(String domain, String method, int seed, Map<String, Object> result, Path dir) {}

    public record Result(List<Run> runs, Map<String, Object> settings, int executed, int reused) {}

    private SegSuiteRunner() {}

    public static Result run(Plan plan) throws IOException {
        Map<String, Object> settings = new LinkedHashMap<>(plan.profile().toJson());
        settings.put("model", plan.modelName());
        settings.put("tune_decoder", plan.tuneDecoder());
        settings.put("prompts", "eval: the deepest pixel and the exact box of every region of >= " + SegEvaluator.MIN_AREA
                + " pixels; train: a random point (+ a negative point half the time) or a box jittered by 10% of its sides");
        SuiteFolder.claim(plan.outDir(), settings);
        List<Run> runs = new ArrayList<>();
        int executed = 0;
        int reused = 0;
        int total = plan.domains().size() * plan.methods().size() * plan.seeds();
        try (ProgressBar bar = plan.progress() ? Progress.bar("segmentation suite", total) : null) {
            for (String domain : plan.domains()) {
                SegDomains.Splits splits = SegDomains.splits(domain, org.peft4j.data.seg.SegData.DOMAIN_IMAGE_SIZE,
                        plan.profile().sizes(), 0, plan.fashionDir() == null ? FashionMnist.DEFAULT_DIR : plan.fashionDir());
                for (String method : plan.methods()) {
                    for (int seed = 0; seed < plan.seeds(); seed++) {
                        Path dir = plan.outDir().resolve("runs").resolve(domain).resolve(method).resolve("seed" + seed);
                        Map<String, Object> result = SuiteFolder.finished(dir);
                        if (result != null) {
                            reused++;
                        } else {
                            if (bar != null) {
                                bar.setExtraMessage(" " + domain + " / " + method + " / seed " + seed);
                            }
                            result = runOne(plan, splits, domain, method, seed, dir);
                            SuiteFolder.record(dir, result);
                            executed++;
                        }
                        runs.add(new Run(domain, method, seed, result, dir));
                        if (bar != null) {
                            bar.step();
                        }
                    }
                }
            }
        }
        return new Result(runs, settings, executed, reused);
    }

    private static Map<String, Object> runOne(Plan plan, SegDomains.Splits splits, String domain, String method, int seed,
                                              Path dir) throws IOException {
        Profile p = plan.profile();
        TrainConfig config = new TrainConfig(p.epochs(), p.batchSize(), Methods.samLearningRate(method), 0.01, 0.1, 1, 1.0,
                1000L * seed + 17, 10, false);
        try (NDManager manager = NDManager.newBaseManager()) {
            SamModel sam = SamCheckpoint.load(plan.model(), manager);
            Engine.getInstance().setRandomSeed((int) config.seed());
            TunerConfig tuner = Methods.samConfig(method, MethodOptions.DEFAULTS, plan.tuneDecoder());
            if (tuner instanceof LoraConfig lora) {
                tuner = lora.withBaseModel(plan.modelName());
            }
            SegFineTuning.Outcome o = SegFineTuning.run(sam, method, tuner, config, splits.train(), splits.test(), dir,
                    manager, false, true, 1);
            if (!o.test().examples().isEmpty()) {
                ExamplePictures.write(o.test().examples().get(0), dir.resolve(ExamplePictures.FILE));
            }
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("domain", domain);
            result.put("seed", seed);
            result.putAll(o.toJson());
            return result;
        }
    }
}
