package org.peft4j.suite;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import me.tongfei.progressbar.ProgressBar;
import org.peft4j.data.DataSpec;
import org.peft4j.data.ImageDataset;
import org.peft4j.data.ImageDatasets;
import org.peft4j.data.suite.Suite;
import org.peft4j.data.suite.SuiteData;
import org.peft4j.data.suite.SuiteTask;
import org.peft4j.io.AtomicFiles;
import org.peft4j.io.Json;
import org.peft4j.models.vit.VitCheckpoint;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.train.FineTuning;
import org.peft4j.train.Progress;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Runs the suite's protocol ({@link SuiteProtocol}) for every task × method, resumably: each
 * finished run is written atomically as its own file, {@code OUT/runs/TASK/METHOD/tune-lr=RATE.json}
 * or {@code seed-N.json}, and a later call with the same settings reuses it instead of training.
 * {@code OUT/settings.json} records what the results depend on (protocol, sizes, model weights); a
 * folder holding results of other settings is refused rather than mixed.
 */
public final class SuiteRunner {

    public static final String SETTINGS_FILE = "settings.json";
    /** Each run trains in a scratch folder of OUT (the model or adapter FineTuning saves), deleted after. */
    private static final String WORK_PREFIX = ".run-";

    /**
     * What to run. {@code modelDir} is the ViT checkpoint every run starts from (a fresh head per
     * task); {@code backbone} its record for the report.
     */
    public record Plan(SuiteProtocol protocol, List<SuiteTask> tasks, List<MethodSpec> methods, Path modelDir,
                       Map<String, Object> backbone, Path fashionMnistDir, Path outDir, boolean progress) {
        public Plan {
            if (tasks.isEmpty() || methods.isEmpty()) {
                throw new IllegalArgumentException("a suite needs at least one task and one method");
            }
            tasks = List.copyOf(tasks);
            methods = List.copyOf(methods);
        }
    }

    /** The results, and how many runs were trained now and how many were found already done. */
    public record Result(SuiteResults results, int executedRuns, int reusedRuns) {}

    /** Raised when the output folder holds results of other settings, or is not a suite folder. */
    public static final class MismatchException extends IOException {
        MismatchException(String message) {
            super(message);
        }
    }

    private final Plan plan;
    private final List<RunRecord> records = new ArrayList<>();
    private int executed;
    private int reused;
    private ProgressBar bar;
    private SuiteData loaded; // the current task's images, drawn once for all its runs

    private SuiteRunner(Plan plan) {
        this.plan = plan;
    }

    public static Result run(Plan plan) throws IOException {
        return new SuiteRunner(plan).run();
    }

    /**
     * Where the pending runs train when not here one after the other: {@code runAll} gets the keys of
     * runs whose record is missing and returns once each has written it (Spark runs them as tasks, each
     * calling {@link #runOne}). The tuning runs come first, as their scores pick the seed runs' rate.
     */
    public interface Elsewhere {
        void runAll(List<String> keys) throws IOException;
    }

    private static final ThreadLocal<Elsewhere> ELSEWHERE = new ThreadLocal<>();

    /** Runs {@code body} (a suite command) with its pending runs trained by {@code elsewhere}. */
    public static <T> T withRunsElsewhere(Elsewhere elsewhere, java.util.concurrent.Callable<T> body) throws Exception {
        ELSEWHERE.set(elsewhere);
        try {
            return body.call();
        } finally {
            ELSEWHERE.remove();
        }
    }

    /** Trains the run {@code key} of {@code plan} unless its record exists (one Spark task's work). */
    public static void runOne(Plan plan, String key) throws IOException {
        String[] k = key.split("\\|", -1);
        if (k.length != 5) {
            throw new IllegalArgumentException("not a suite run key: '" + key + "'");
        }
        SuiteTask task = plan.tasks().stream().filter(t -> t.name().equals(k[0])).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no task '" + k[0] + "' in this suite"));
        MethodSpec m = plan.methods().stream().filter(x -> x.label().equals(k[1])).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no method '" + k[1] + "' in this suite"));
        double lr = Double.parseDouble(k[2]);
        long seed = Long.parseLong(k[3]);
        boolean tuning = Boolean.parseBoolean(k[4]);
        SuiteRunner runner = new SuiteRunner(plan);
        Path dir = runner.runDir(task, m);
        Path file = dir.resolve(tuning ? tuningFile(lr) : seedFile((int) seed));
        if (!Files.isRegularFile(file)) {
            runner.recordOrTrain(file, task, m, lr, seed, tuning);
        }
    }

    private static String key(SuiteTask task, MethodSpec m, double lr, long seed, boolean tuning) {
        return task.name() + "|" + m.label() + "|" + lr + "|" + seed + "|" + tuning;
    }

    /** The keys of the tuning runs ({@code tuning}) or of the seed runs whose records are missing. */
    private List<String> pending(boolean tuning) throws IOException {
        List<String> keys = new ArrayList<>();
        for (SuiteTask task : plan.tasks()) {
            for (MethodSpec m : plan.methods()) {
                Path dir = runDir(task, m);
                List<Double> rates = plan.protocol().learningRates(m.method());
                if (tuning) {
                    for (double lr : rates.size() > 1 ? rates : List.<Double>of()) {
                        if (!Files.isRegularFile(dir.resolve(tuningFile(lr)))) {
                            keys.add(key(task, m, lr, 0, true));
                        }
                    }
                    continue;
                }
                double lr = rates.get(0);
                if (rates.size() > 1) {
                    List<RunRecord> scores = new ArrayList<>();
                    for (double r : rates) {
                        scores.add(RunRecord.read(dir.resolve(tuningFile(r))));
                    }
                    lr = SuiteResults.chooseLearningRate(scores);
                }
                for (int seed = 0; seed < plan.protocol().seeds(); seed++) {
                    if (!Files.isRegularFile(dir.resolve(seedFile(seed)))) {
                        keys.add(key(task, m, lr, seed, false));
                    }
                }
            }
        }
        return keys;
    }

    /**
     * Fails with {@link MismatchException} unless {@code outDir} is absent, empty, or a suite folder
     * made with these settings; writes settings.json when there is none.
     */
    public static void claimOutDir(Path outDir, Map<String, Object> settings) throws IOException {
        Path file = outDir.resolve(SETTINGS_FILE);
        String text = Json.toPythonStyle(settings) + "\n";
        if (Files.exists(outDir) && !Files.isDirectory(outDir)) {
            throw new MismatchException(outDir + " exists and is not a folder");
        }
        if (Files.isRegularFile(file)) {
            List<String> differences = differences(Json.readFile(file), Json.MAPPER.readTree(text));
            if (!differences.isEmpty()) {
                throw new MismatchException(outDir + " holds results made with other settings (" + String.join("; ",
                        differences) + "); use another --out, or delete it to start again");
            }
            return;
        }
        if (Files.isDirectory(outDir) && !AtomicFiles.isEmptyDirectory(outDir)) {
            throw new MismatchException(outDir + " is not empty and holds no results (" + SETTINGS_FILE
                    + "); use a new or empty folder");
        }
        AtomicFiles.writeString(file, text);
    }

    /** What the results depend on: the protocol and the model's exact weights. */
    public static Map<String, Object> settings(SuiteProtocol protocol, Path modelDir) throws IOException {
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("name", modelDir.toAbsolutePath().normalize().getFileName().toString());
        model.put("sha256", sha256(modelDir.resolve("config.json"), modelDir.resolve(VitCheckpoint.WEIGHTS_FILE)));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("protocol", protocol.toJson());
        m.put("model", model);
        return m;
    }

    /** An empty split with {@code like}'s classes: the final runs train on train + val and validate on nothing. */
    public static ImageDataset empty(ImageDataset like) {
        return ImageDatasets.subset(like, new int[0], like.name() + "/none");
    }

    private Result run() throws IOException {
        SuiteProtocol protocol = plan.protocol();
        Map<String, Object> settings = settings(protocol, plan.modelDir());
        claimOutDir(plan.outDir(), settings);
        removeUnfinishedRuns();
        Elsewhere elsewhere = ELSEWHERE.get();
        int trainedElsewhere = 0;
        if (elsewhere != null) {
            List<String> tuningRuns = pending(true);
            elsewhere.runAll(tuningRuns);
            List<String> seedRuns = pending(false);
            elsewhere.runAll(seedRuns);
            trainedElsewhere = tuningRuns.size() + seedRuns.size();
        }
        int pending = 0;
        for (SuiteTask task : plan.tasks()) {
            for (MethodSpec m : plan.methods()) {
                pending += (int) plannedFiles(task, m).stream().filter(f -> !Files.isRegularFile(f)).count();
            }
        }
        try (ProgressBar progress = plan.progress() && pending > 0 ? Progress.bar("suite", pending) : null) {
            bar = progress;
            for (SuiteTask task : plan.tasks()) {
                runTask(task);
            }
        }
        List<String> labels = plan.methods().stream().map(MethodSpec::label).toList();
        SuiteResults results = SuiteResults.aggregate(settings, plan.backbone(), plan.tasks(), labels, records);
        // runs trained elsewhere were read back here: they count as trained now
        return new Result(results, executed + trainedElsewhere, reused - trainedElsewhere);
    }

    /** A run interrupted (killed) before it finished left its work folder; its record was never written. */
    private void removeUnfinishedRuns() throws IOException {
        try (var entries = Files.list(plan.outDir())) {
            for (Path p : entries.filter(p -> p.getFileName().toString().startsWith(WORK_PREFIX)).toList()) {
                AtomicFiles.deleteRecursively(p);
            }
        }
    }

    private void runTask(SuiteTask task) throws IOException {
        for (MethodSpec m : plan.methods()) {
            Path dir = runDir(task, m);
            List<Double> rates = plan.protocol().learningRates(m.method());
            List<RunRecord> tuning = new ArrayList<>();
            if (rates.size() > 1) {
                for (double lr : rates) {
                    tuning.add(recordOrTrain(dir.resolve(tuningFile(lr)), task, m, lr, 0, true));
                }
            }
            double lr = tuning.isEmpty() ? rates.get(0) : SuiteResults.chooseLearningRate(tuning);
            for (int seed = 0; seed < plan.protocol().seeds(); seed++) {
                recordOrTrain(dir.resolve(seedFile(seed)), task, m, lr, seed, false);
            }
        }
    }

    private RunRecord recordOrTrain(Path file, SuiteTask task, MethodSpec m, double lr, long seed, boolean tuning)
            throws IOException {
        RunRecord r;
        if (Files.isRegularFile(file)) {
            r = RunRecord.read(file);
            if (!r.task().equals(task.name()) || !r.method().equals(m.label()) || r.tuning() != tuning
                    || r.learningRate() != lr || r.seed() != seed) {
                throw new MismatchException(file + " records another run (" + r.method() + " on " + r.task()
                        + ", lr " + r.learningRate() + ", seed " + r.seed() + "); delete it to redo it");
            }
            reused++;
        } else {
            if (bar != null) {
                bar.setExtraMessage(String.format(Locale.ROOT, " %s | %s | %s", task.name(), m.label(),
                        tuning ? "tuning lr " + lr : "seed " + seed));
            }
            if (loaded == null || !loaded.task().equals(task)) {
                loaded = Suite.load(task.name(), plan.protocol().sizes(), plan.fashionMnistDir());
            }
            r = train(loaded, m, lr, seed, tuning);
            r.write(file);
            executed++;
            if (bar != null) {
                bar.step();
            }
        }
        records.add(r);
        return r;
    }

    /**
     * One run: a tuning run trains on train and scores on val, a seed run trains on train + val and
     * scores on test; both keep the last epoch. The seed fixes the new head's and the adapter's
     * initial values, the batch order and dropout/expert masks, never the data.
     */
    private RunRecord train(SuiteData data, MethodSpec m, double lr, long seed, boolean tuning) throws IOException {
        DataSpec.Splits splits = tuning ? new DataSpec.Splits(data.train(), data.val(), data.val())
                : new DataSpec.Splits(data.trainval(), empty(data.test()), data.test());
        Path work = Files.createTempDirectory(plan.outDir(), WORK_PREFIX);
        try (NDManager manager = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed((int) seed);
            VitForImageClassification vit = VitCheckpoint.load(plan.modelDir(), manager,
                    new VitCheckpoint.Options(data.task().classes(), null));
            FineTuning.Outcome o = FineTuning.run(vit, m.method(), m.config(vit), plan.protocol().trainConfig(lr, seed),
                    splits, work, manager, false, false);
            return new RunRecord(data.task().name(), m.label(), tuning, lr, seed, o.testAccuracy(),
                    o.trainableParams(), o.allParams(), o.seconds(), o.imagesPerSecond());
        } finally {
            AtomicFiles.deleteRecursively(work);
        }
    }

    private List<Path> plannedFiles(SuiteTask task, MethodSpec m) {
        Path dir = runDir(task, m);
        List<Path> files = new ArrayList<>();
        List<Double> rates = plan.protocol().learningRates(m.method());
        if (rates.size() > 1) {
            rates.forEach(lr -> files.add(dir.resolve(tuningFile(lr))));
        }
        for (int seed = 0; seed < plan.protocol().seeds(); seed++) {
            files.add(dir.resolve(seedFile(seed)));
        }
        return files;
    }

    private Path runDir(SuiteTask task, MethodSpec m) {
        return plan.outDir().resolve("runs").resolve(task.name()).resolve(m.label());
    }

    static String tuningFile(double lr) {
        return "tune-lr=" + Json.toPythonStyle(lr) + ".json";
    }

    static String seedFile(int seed) {
        return "seed-" + seed + ".json";
    }

    /** The settings that differ, as "key: was → now" on dotted paths. */
    private static List<String> differences(JsonNode was, JsonNode now) {
        Map<String, JsonNode> a = new TreeMap<>();
        Map<String, JsonNode> b = new TreeMap<>();
        flatten("", was, a);
        flatten("", now, b);
        List<String> out = new ArrayList<>();
        TreeSet<String> keys = new TreeSet<>(a.keySet());
        keys.addAll(b.keySet());
        for (String key : keys) {
            JsonNode x = a.get(key);
            JsonNode y = b.get(key);
            if (x == null || !x.equals(y)) {
                out.add(key + ": " + (x == null ? "none" : x) + " there, " + (y == null ? "none" : y) + " now");
            }
        }
        return out;
    }

    private static void flatten(String prefix, JsonNode node, Map<String, JsonNode> out) {
        if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                flatten(prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(), e.getValue(), out);
            }
        } else {
            out.put(prefix, node);
        }
    }

    private static String sha256(Path... files) throws IOException {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            for (Path f : files) {
                try (InputStream in = new DigestInputStream(Files.newInputStream(f), digest)) {
                    in.transferTo(OutputStream.nullOutputStream());
                }
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
