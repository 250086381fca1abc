package org.peft4j.mergestudy;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import me.tongfei.progressbar.ProgressBar;
import org.peft4j.data.DataSpec;
import org.peft4j.data.ImageDataset;
import org.peft4j.data.suite.Suite;
import org.peft4j.data.suite.SuiteData;
import org.peft4j.data.suite.SuiteTask;
import org.peft4j.io.AtomicFiles;
import org.peft4j.io.Json;
import org.peft4j.merge.AdapterMerging;
import org.peft4j.merge.LoraMerger;
import org.peft4j.merge.MergeMethod;
import org.peft4j.merge.MergedAdapter;
import org.peft4j.merge.MultiTaskModel;
import org.peft4j.models.vit.VitCheckpoint;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.peft.MethodOptions;
import org.peft4j.peft.Methods;
import org.peft4j.suite.RunRecord;
import org.peft4j.suite.SuiteProtocol;
import org.peft4j.suite.SuiteRunner;
import org.peft4j.train.FineTuning;
import org.peft4j.train.Progress;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The multi-LoRA merging experiment in miniature: one LoRA (with its own head) and one head-only
 * model per task, trained on the suite's tasks; every pair and every triple of tasks merged with
 * every method (each adapter weighted {@code weight}, by default 1: the tasks' updates added, as a
 * multi-task model must hold all of them; results of other weights are kept apart, labelled
 * {@code METHOD w=W});
 * each task of a merge scored with its own head on its test split; and task similarities to test
 * whether dissimilar tasks merge better.
 *
 * <p>Resumable: trained adapters live under {@code OUT/adapters/TASK}, every finished run or merge
 * is one JSON file under {@code OUT/runs}, and a second call skips what exists. {@code
 * settings.json} pins the protocol and model; a folder made with other settings is refused.
 */
public final class MergeStudy {

    /** A merge method with its density (for the methods that prune), as {@code NAME} or {@code NAME:DENSITY}. */
    public record MethodChoice(String label, MergeMethod method, Double density) {
        public static final double DEFAULT_DENSITY = 0.5;

        public static List<MethodChoice> parseList(String spec) {
            List<MethodChoice> out = new ArrayList<>();
            for (String part : spec.split(",", -1)) {
                String p = part.strip();
                int colon = p.indexOf(':');
                MergeMethod m = MergeMethod.parse(colon < 0 ? p : p.substring(0, colon));
                if (m.isAdaMerging()) {
                    throw new IllegalArgumentException(m.cliName + " is not part of the study (it needs test-time data)");
                }
                Double density = null;
                if (colon >= 0) {
                    if (!m.usesDensity()) {
                        throw new IllegalArgumentException("'" + p + "': " + m.cliName + " takes no density");
                    }
                    try {
                        density = Double.parseDouble(p.substring(colon + 1));
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("'" + p + "': expected NAME:DENSITY");
                    }
                    if (!(density > 0 && density <= 1)) {
                        throw new IllegalArgumentException("'" + p + "': density must be in (0, 1]");
                    }
                } else if (m.usesDensity()) {
                    density = DEFAULT_DENSITY;
                }
                if (out.stream().anyMatch(c -> c.label.equals(p))) {
                    throw new IllegalArgumentException("method '" + p + "' is given twice");
                }
                out.add(new MethodChoice(p, m, density));
            }
            return out;
        }
    }

    /** What to run; {@code sizes} of combinations (2: pairs, 3: triples). */
    public record Plan(SuiteProtocol protocol, List<SuiteTask> tasks, List<MethodChoice> methods, List<Integer> sizes,
                       double weight, Path modelDir, Map<String, Object> backbone, Path fashionMnistDir, Path outDir,
                       boolean progress) {
        public Plan {
            check(tasks.size(), sizes, weight);
        }

        /** Fails (IllegalArgumentException) unless {@code sizes} and {@code weight} fit {@code taskCount} tasks; callers check before training. */
        public static void check(int taskCount, List<Integer> sizes, double weight) {
            if (!Double.isFinite(weight) || weight == 0) {
                throw new IllegalArgumentException("the merge weight must be a non-zero number, got " + weight);
            }
            if (taskCount < 2) {
                throw new IllegalArgumentException("merging needs at least two tasks, got " + taskCount);
            }
            for (int k : sizes) {
                if (k < 2 || k > taskCount) {
                    throw new IllegalArgumentException("cannot merge " + k + " of " + taskCount + " tasks");
                }
            }
        }
    }

    /** One task's score in one merge. */
    public record MergeScore(List<String> combo, String method, String task, double accuracy) {}

    /** Everything the report needs. */
    public record Results(Map<String, Object> settings, Map<String, Object> backbone, List<String> tasks,
                          List<String> methods, Map<String, Double> single, Map<String, Double> headOnly,
                          List<MergeScore> merges, Similarity.Matrices similarity, int trained, int merged,
                          int reused) {}

    private static final String LORA = "lora";
    private static final String HEAD = "head";

    private final Plan plan;
    private final Map<String, SuiteData> data = new LinkedHashMap<>();
    private int trained;
    private int mergedNow;
    private int reused;

    private MergeStudy(Plan plan) {
        this.plan = plan;
    }

    public static Results run(Plan plan) throws IOException {
        return new MergeStudy(plan).run();
    }

    private Results run() throws IOException {
        Map<String, Object> settings = SuiteRunner.settings(plan.protocol(), plan.modelDir());
        settings.put("study", "merge");
        SuiteRunner.claimOutDir(plan.outDir(), settings);
        removeUnfinished();
        List<List<String>> combos = combinations();
        long pending = pendingWork(combos);
        Map<String, Double> single = new LinkedHashMap<>();
        Map<String, Double> head = new LinkedHashMap<>();
        List<MergeScore> scores = new ArrayList<>();
        Similarity.Matrices similarity;
        try (ProgressBar bar = plan.progress() && pending > 0 ? Progress.bar("merge-study", pending) : null) {
            for (SuiteTask t : plan.tasks()) {
                single.put(t.name(), trainOrReuse(t, LORA, bar).accuracy());
                head.put(t.name(), trainOrReuse(t, HEAD, bar).accuracy());
            }
            similarity = similarityOrReuse(bar);
            for (List<String> combo : combos) {
                for (MethodChoice m : plan.methods()) {
                    scores.addAll(mergeOrReuse(combo, m, bar));
                }
            }
        }
        return new Results(settings, plan.backbone(), plan.tasks().stream().map(SuiteTask::name).toList(),
                plan.methods().stream().map(this::label).toList(), single, head, scores, similarity, trained,
                mergedNow, reused);
    }

    /** A method's label in results: its spec, plus the weight when that is not 1. */
    private String label(MethodChoice m) {
        return plan.weight() == 1 ? m.label() : m.label() + " w=" + Json.toPythonStyle(plan.weight());
    }

    /** Scratch folders of runs or merges killed before they finished; their records were never written. */
    private void removeUnfinished() throws IOException {
        try (var entries = Files.list(plan.outDir())) {
            for (Path p : entries.filter(p -> p.getFileName().toString().startsWith(".run-")
                    || p.getFileName().toString().startsWith(".merge-")).toList()) {
                AtomicFiles.deleteRecursively(p);
            }
        }
    }

    private List<List<String>> combinations() {
        List<String> names = plan.tasks().stream().map(SuiteTask::name).toList();
        List<List<String>> out = new ArrayList<>();
        for (int k : plan.sizes()) {
            choose(names, k, 0, new ArrayList<>(), out);
        }
        return out;
    }

    private static void choose(List<String> names, int k, int from, List<String> prefix, List<List<String>> out) {
        if (prefix.size() == k) {
            out.add(List.copyOf(prefix));
            return;
        }
        for (int i = from; i < names.size(); i++) {
            prefix.add(names.get(i));
            choose(names, k, i + 1, prefix, out);
            prefix.remove(prefix.size() - 1);
        }
    }

    private long pendingWork(List<List<String>> combos) {
        long n = 0;
        for (SuiteTask t : plan.tasks()) {
            n += Files.isRegularFile(runFile(t.name(), LORA)) ? 0 : 1;
            n += Files.isRegularFile(runFile(t.name(), HEAD)) ? 0 : 1;
        }
        n += Files.isRegularFile(similarityFile()) ? 0 : 1;
        for (List<String> c : combos) {
            for (MethodChoice m : plan.methods()) {
                n += Files.isRegularFile(mergeFile(c, m)) ? 0 : 1;
            }
        }
        return n;
    }

    // ---- training ----

    private Path runFile(String task, String method) {
        return plan.outDir().resolve("runs").resolve(task).resolve(method + ".json");
    }

    private Path adapterDir(String task) {
        return plan.outDir().resolve("adapters").resolve(task);
    }

    /** The task's LoRA (kept under adapters/) or head-only run (only its score kept), trained unless recorded. */
    private RunRecord trainOrReuse(SuiteTask task, String method, ProgressBar bar) throws IOException {
        Path file = runFile(task.name(), method);
        boolean lora = method.equals(LORA);
        if (Files.isRegularFile(file) && (!lora || Files.isRegularFile(adapterDir(task.name()).resolve("adapter_config.json")))) {
            reused++;
            return RunRecord.read(file);
        }
        step(bar, task.name() + " | " + method);
        SuiteData d = data(task.name());
        double lr = plan.protocol().learningRates(method).get(plan.protocol().learningRates(method).size() - 1);
        Path work = lora ? adapterDir(task.name()) : Files.createTempDirectory(plan.outDir(), ".run-");
        try (NDManager manager = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(0);
            VitForImageClassification vit = VitCheckpoint.load(plan.modelDir(), manager,
                    new VitCheckpoint.Options(d.task().classes(), null));
            DataSpec.Splits splits = new DataSpec.Splits(d.trainval(), SuiteRunner.empty(d.test()), d.test());
            FineTuning.Outcome o = FineTuning.run(vit, method, lora ? Methods.config(LORA, MethodOptions.DEFAULTS, vit) : null,
                    plan.protocol().trainConfig(lr, 0), splits, work, manager, false, false);
            RunRecord r = new RunRecord(task.name(), method, false, lr, 0, o.testAccuracy(), o.trainableParams(),
                    o.allParams(), o.seconds(), o.imagesPerSecond());
            if (lora) {
                AtomicFiles.deleteRecursively(work.resolve("checkpoint"));
            }
            Files.createDirectories(file.getParent());
            r.write(file);
            trained++;
            done(bar);
            return r;
        } finally {
            if (!lora) {
                AtomicFiles.deleteRecursively(work);
            }
        }
    }

    private SuiteData data(String task) {
        return data.computeIfAbsent(task, t -> Suite.load(t, plan.protocol().sizes(), plan.fashionMnistDir()));
    }

    // ---- similarity ----

    private Path similarityFile() {
        return plan.outDir().resolve("runs").resolve("similarity.json");
    }

    private Similarity.Matrices similarityOrReuse(ProgressBar bar) throws IOException {
        List<String> names = plan.tasks().stream().map(SuiteTask::name).toList();
        Path file = similarityFile();
        if (Files.isRegularFile(file)) {
            Similarity.Matrices m = Similarity.Matrices.fromJson(Json.readFile(file));
            if (m.tasks().equals(names)) {
                reused++;
                return m;
            }
        }
        step(bar, "task similarity");
        Map<String, Path> adapters = new LinkedHashMap<>();
        Map<String, ImageDataset> probes = new LinkedHashMap<>();
        for (String t : names) {
            adapters.put(t, adapterDir(t));
            probes.put(t, data(t).test());
        }
        Similarity.Matrices m = Similarity.compute(plan.modelDir(), adapters, probes);
        AtomicFiles.writeString(file, Json.toPythonStyle(m.toJson()) + "\n");
        done(bar);
        return m;
    }

    // ---- merging ----

    private Path mergeFile(List<String> combo, MethodChoice m) {
        return plan.outDir().resolve("runs").resolve("merges").resolve(String.join("+", combo))
                .resolve(label(m).replace(':', '@').replace(' ', '_') + ".json");
    }

    private List<MergeScore> mergeOrReuse(List<String> combo, MethodChoice m, ProgressBar bar) throws IOException {
        Path file = mergeFile(combo, m);
        if (Files.isRegularFile(file)) {
            reused++;
            return readScores(file, combo, label(m));
        }
        step(bar, String.join("+", combo) + " | " + label(m));
        Path out = Files.createTempDirectory(plan.outDir(), ".merge-").resolve("merged");
        List<MergeScore> scores = new ArrayList<>();
        try (NDManager manager = NDManager.newBaseManager()) {
            float[] w = new float[combo.size()];
            java.util.Arrays.fill(w, (float) plan.weight());
            LoraMerger.Options options = new LoraMerger.Options(m.method(), LoraMerger.LayerWeights.constant(w),
                    w.length, m.density(), null, null, null, 0);
            List<AdapterMerging.Source> sources = combo.stream()
                    .map(t -> new AdapterMerging.Source(t, adapterDir(t))).toList();
            Map<String, Object> info = AdapterMerging.run(VitCheckpoint.load(plan.modelDir(), manager), null, sources, options,
                    Map.of("method", m.method().cliName), out, false, null, manager, false);
            VitForImageClassification vit = VitCheckpoint.load(plan.modelDir(), manager);
            MultiTaskModel model = MultiTaskModel.load(vit, MergedAdapter.read(out), combo, manager);
            LinkedHashMap<String, ImageDataset> tests = new LinkedHashMap<>();
            combo.forEach(t -> tests.put(t, data(t).test()));
            Map<String, Object> record = new LinkedHashMap<>();
            record.put("combo", combo);
            record.put("method", label(m));
            record.put("weight", plan.weight());
            Map<String, Object> acc = new LinkedHashMap<>();
            for (MultiTaskModel.TaskScore s : model.evaluate(tests, FineTuning.transformFor(vit), 128).values()) {
                acc.put(s.task(), s.accuracy());
                scores.add(new MergeScore(combo, label(m), s.task(), s.accuracy()));
            }
            record.put("accuracy", acc);
            record.put("merge", info);
            Files.createDirectories(file.getParent());
            AtomicFiles.writeString(file, Json.toPythonStyle(record) + "\n");
        } finally {
            AtomicFiles.deleteRecursively(out.getParent());
        }
        mergedNow++;
        done(bar);
        return scores;
    }

    private static List<MergeScore> readScores(Path file, List<String> combo, String label) throws IOException {
        JsonNode n = Json.readFile(file);
        List<MergeScore> out = new ArrayList<>();
        for (String t : combo) {
            JsonNode a = n.path("accuracy").get(t);
            if (a == null) {
                throw new IOException(file + ": no accuracy for task '" + t + "'; delete it to redo the merge");
            }
            out.add(new MergeScore(combo, label, t, a.asDouble()));
        }
        return out;
    }

    private static void step(ProgressBar bar, String what) {
        if (bar != null) {
            bar.setExtraMessage(String.format(Locale.ROOT, " %s", what));
        }
    }

    private static void done(ProgressBar bar) {
        if (bar != null) {
            bar.step();
        }
    }
}
