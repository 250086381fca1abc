package org.peft4j.vlsuite;

import ai.djl.ndarray.NDManager;
import me.tongfei.progressbar.ProgressBar;
import org.peft4j.data.vl.VlData;
import org.peft4j.suite.SuiteFolder;
import org.peft4j.models.text.TextCheckpoint;
import org.peft4j.models.text.TextModel;
import org.peft4j.models.text.TextTokenizer;
import org.peft4j.models.vit.VitCheckpoint;
import org.peft4j.models.vl.VisionLanguageModel;
import org.peft4j.nn.Module;
import org.peft4j.train.Progress;
import org.peft4j.train.VlFineTuning;
import org.peft4j.tuners.routing.Routing;
import org.peft4j.tuners.routing.RoutingConfig;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The vision-language suite: every (task, method, routing, seed) cell trained and scored with
 * {@link VlFineTuning}, each in its own folder with a result.json, so a rerun skips what finished.
 * The settings are recorded; a folder of other settings is refused.
 */
public final class VlSuiteRunner {

    /** One method of the suite: a tuner and the routing in its bottleneck. */
    public record Cell(RoutingConfig.Method method, Routing routing) {
        public String label() {
            return method == RoutingConfig.Method.CROSS_ATTN ? method.cliName : method.cliName + "/" + routing.cliName;
        }

        /** {@code lora:vl}, {@code adapter:none}, {@code cross-attn}. */
        public static Cell parse(String spec) {
            String[] parts = spec.split(":", 2);
            return new Cell(RoutingConfig.Method.of(parts[0]), parts.length == 2 ? Routing.of(parts[1]) : Routing.NONE);
        }
    }

    /** Every routing with LoRA and adapters, and the cross-attention baseline. */
    public static List<Cell> allCells() {
        List<Cell> out = new ArrayList<>();
        for (RoutingConfig.Method m : List.of(RoutingConfig.Method.LORA, RoutingConfig.Method.ADAPTER)) {
            for (Routing r : Routing.values()) {
                out.add(new Cell(m, r));
            }
        }
        out.add(new Cell(RoutingConfig.Method.CROSS_ATTN, Routing.NONE));
        return out;
    }

    /** Data sizes and epochs per task. */
    public record Profile(String name, int vqaTrain, int vqaTest, int vqaEpochs, int captionTrain, int captionTest,
                          int captionEpochs, int beams) {
        public static final Profile FULL = new Profile("full", 6000, 1200, 8, 2000, 300, 8, 3);
        public static final Profile QUICK = new Profile("quick", 600, 150, 3, 200, 40, 3, 2);

        Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("profile", name);
            m.put("vqa_train_questions", vqaTrain);
            m.put("vqa_test_questions", vqaTest);
            m.put("vqa_epochs", vqaEpochs);
            m.put("caption_train_images", captionTrain);
            m.put("caption_test_images", captionTest);
            m.put("caption_epochs", captionEpochs);
            m.put("beams", beams);
            return m;
        }
    }

    public record Plan(List<String> tasks, List<Cell> cells, int seeds, Profile profile, Path visionModel, Path textModel,
                       Path outDir, boolean progress) {}

    /** One finished run as recorded in its result.json. */
    public record Run(String task, Cell cell, int seed, Map<String, Object> result, Path dir) {}

    public record Result(List<Run> runs, Map<String, Object> settings, int executed, int reused) {}

    private VlSuiteRunner() {}

    public static Result run(Plan plan) throws IOException {
        Map<String, Object> settings = new LinkedHashMap<>(plan.profile().toJson());
        settings.put("vision_model", plan.visionModel().getFileName().toString());
        settings.put("text_model", plan.textModel().getFileName().toString());
        VlFineTuning.Recipe example = VlFineTuning.Recipe.defaults("vqa", RoutingConfig.Method.LORA, Routing.VL);
        settings.put("rank", example.rank());
        settings.put("alpha", example.alpha());
        settings.put("adapter_bottleneck", example.bottleneck());
        settings.put("learning_rate", example.lr());
        settings.put("batch_size", example.batchSize());
        SuiteFolder.claim(plan.outDir(), settings);
        List<Run> runs = new ArrayList<>();
        int executed = 0;
        int reused = 0;
        int total = plan.tasks().size() * plan.cells().size() * plan.seeds();
        try (ProgressBar bar = plan.progress() ? Progress.bar("vision-language suite", total) : null) {
            for (String task : plan.tasks()) {
                Profile p = plan.profile();
                VlData.Split<?> split = task.equals("vqa") ? VlData.vqa("vqa", p.vqaTrain(), p.vqaTest(), 28, 0)
                        : VlData.caption("caption", p.captionTrain(), p.captionTest(), 28, 0);
                for (Cell cell : plan.cells()) {
                    for (int seed = 0; seed < plan.seeds(); seed++) {
                        Path dir = plan.outDir().resolve("runs").resolve(task)
                                .resolve(cell.label().replace('/', '-')).resolve("seed" + seed);
                        Map<String, Object> result = SuiteFolder.finished(dir);
                        if (result != null) {
                            reused++;
                        } else {
                            if (bar != null) {
                                bar.setExtraMessage(" " + task + " / " + cell.label() + " / seed " + seed);
                            }
                            result = runOne(plan, split, task, cell, seed, dir);
                            SuiteFolder.record(dir, result);
                            executed++;
                        }
                        runs.add(new Run(task, cell, seed, result, dir));
                        if (bar != null) {
                            bar.step();
                        }
                    }
                }
            }
        }
        return new Result(runs, settings, executed, reused);
    }

    private static Map<String, Object> runOne(Plan plan, VlData.Split<?> split, String task, Cell cell, int seed, Path dir)
            throws IOException {
        Profile p = plan.profile();
        VlFineTuning.Recipe d = VlFineTuning.Recipe.defaults(task, cell.method(), cell.routing());
        VlFineTuning.Recipe recipe = new VlFineTuning.Recipe(task, cell.method(), cell.routing(), d.rank(), d.alpha(), d.bottleneck(),
                task.equals("vqa") ? p.vqaEpochs() : p.captionEpochs(), d.batchSize(), d.lr(), d.weightDecay(), d.warmup(),
                d.maxGradNorm(), 1000L * seed + 17, p.beams());
        try (NDManager manager = NDManager.newBaseManager()) {
            var vit = VitCheckpoint.load(plan.visionModel(), manager);
            Module text = TextCheckpoint.load(plan.textModel(), manager);
            try (TextTokenizer tok = TextTokenizer.load(plan.textModel(), ((TextModel) text).config().vocabSize())) {
                int answers = task.equals("vqa") ? VlFineTuning.answerVocabulary(split.train()).size() : 0;
                VisionLanguageModel vlm = new VisionLanguageModel(vit, text, answers);
                vlm.initializeNew(manager);
                VlFineTuning.Outcome o = VlFineTuning.run(vlm, tok, split.train(), split.test(), recipe, dir, manager, false);
                Map<String, Object> result = new LinkedHashMap<>();
                result.put("task", task);
                result.put("cell", cell.label());
                result.put("seed", seed);
                result.putAll(o.toJson());
                return result;
            }
        }
    }
}
