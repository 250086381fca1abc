package org.peft4j.cli;

import org.peft4j.data.seg.SegDomains;
import org.peft4j.data.suite.Suite;
import org.peft4j.peft.Methods;
import org.peft4j.segsuite.SegSuiteReport;
import org.peft4j.vlsuite.VlSuiteReport;
import org.peft4j.vlsuite.VlSuiteRunner;
import org.peft4j.segsuite.SegSuiteRunner;
import org.peft4j.train.SamPretraining;
import org.peft4j.data.suite.SuiteTask;
import org.peft4j.demo.FashionMnistDemo;
import org.peft4j.models.vit.VitConfig;
import org.peft4j.models.vit.VitPresets;
import org.peft4j.suite.MethodSpec;
import org.peft4j.suite.SuiteProtocol;
import org.peft4j.suite.SuiteReport;
import org.peft4j.suite.SuiteRunner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "suite", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Compare fine-tuning methods on the benchmark suite (9 tasks in 3 groups, 28x28 gray) with the VTAB-1k "
                    + "protocol, and write results.md, results.csv, results.json and report.html (table and plots).",
            "",
            "Full profile, per task and method: each learning rate of the method's grid (head 0.03/0.1; full "
                    + "0.001/0.003; lora, dora, pissa, mlae, adapters 0.003/0.01; ssf, bitfit, ia3, vpt, prefix "
                    + "0.01/0.03) is trained on train (800 images) and scored on val (200); the best, ties to the "
                    + "smaller, is retrained on train + val (1000) once per seed and scored on test (2000). "
                    + "Every run trains 8 epochs at batch 32 (AdamW, weight decay 0.01, 10%% warm-up, cosine) and "
                    + "keeps the last epoch. The default suite (8 methods x 9 tasks x 3 seeds, 360 runs) takes about "
                    + "an hour on 2 cores.",
            "",
            "--quick: 200 train / 50 val / 400 test images, 3 epochs, batch 32, no tuning (the grid's larger "
                    + "rate), 1 seed: 72 runs of the default methods in a few minutes on 2 cores.",
            "",
            "Every finished run is saved under OUT/runs/TASK/METHOD/; running the same command again skips them, "
                    + "so an interrupted suite resumes, and methods, tasks or seeds can be added later. A folder "
                    + "holding results of other settings (profile, epochs, model) is refused.",
            "",
            "--task segmentation: SAM (default: the project's pretrained sam-shapes) on the 5 generated domains "
                    + "(cells, cracks, aerial, fashion, underwater; MESS's 5 domains in spirit), methods mopeft, lora, "
                    + "adapter, prefix, vpt, decoder-only and zero-shot (the pretrained model untrained; default all but vpt). Full profile: 192 train / 64 test "
                    + "images per domain, 12 epochs, batch 16 images (up to 4 prompted regions each), AdamW at 3e-3 "
                    + "(decoder-only 1e-3) with 10%% warm-up and cosine decay, 1 seed; --quick: 48 / 16 images, 3 epochs. "
                    + "Each run is scored with fixed point and box prompts; per-domain mIoU tables, MoPEFT's gate heat-maps "
                    + "and example masks go to the same four files. Runs are saved under OUT/runs/DOMAIN/METHOD/seedS/.",
            ""
        })
final class SuiteCommand implements Callable<Integer> {

    static final String DEFAULT_METHODS = "head,full,lora,dora,mlae,adapter-houlsby,vpt-deep,ssf";
    static final String DEFAULT_SEGMENTATION_METHODS = "zero-shot,mopeft,lora,adapter,prefix,decoder-only";

    @Option(names = "--task", defaultValue = "classification",
            description = "classification (the ViT suite, default), segmentation (SAM on the generated domains) or vl "
                    + "(every routing × method on VQA and captioning).")
    String task;

    @Option(names = "--text-model", paramLabel = "DIR",
            description = "--task vl: the language model folder (default the project's gpt2-fortunes).")
    Path textModel;

    @Option(names = "--domains", defaultValue = "all", paramLabel = "all|NAME,NAME",
            description = "Segmentation domains (default all: cells, cracks, aerial, fashion, underwater).")
    String domains;

    @Option(names = "--tune-decoder", description = "Segmentation: train the mask decoder with every adapter.")
    boolean tuneDecoder;

    @Option(names = "--methods", defaultValue = DEFAULT_METHODS, paramLabel = "SPEC,SPEC",
            description = "Methods to compare, each a method name optionally followed by options: mlae:rank=4, "
                    + "lora:rank=4:alpha=8, lora:target=query+value (list values joined with +). The spec is the "
                    + "method's label. Default: ${DEFAULT-VALUE}.")
    String methods;

    @Option(names = "--tasks", defaultValue = "all", paramLabel = "all|NAME,NAME",
            description = "Suite tasks (default all).")
    String tasks;

    @Option(names = "--seeds", description = "Training seeds per task and method (default 3; 1 with --quick).")
    Integer seeds;

    @Option(names = "--out", paramLabel = "DIR", description = "Results folder (default runs/suite, runs/suite-quick with --quick).")
    Path out;

    @Option(names = "--quick", description = "The smoke profile (see above).")
    boolean quick;

    @Option(names = "--epochs", description = "Epochs per run instead of the profile's.")
    Integer epochs;

    @Mixin
    BackboneOptions backbone;

    @Option(names = "--no-progress", description = "No progress bar.")
    boolean noProgress;

    /** One run of the plan, by key (how {@code peft4j spark suite} hands a run to a Spark task). */
    @Option(names = "--run", hidden = true)
    String run;

    @Override
    public Integer call() throws Exception {
        quietPerRunLogs();
        if (task.equals("segmentation")) {
            return segmentation();
        }
        if (task.equals("vl")) {
            return visionLanguage();
        }
        if (!task.equals("classification")) {
            throw new UsageException("--task must be classification, segmentation or vl, got '" + task + "'");
        }
        if (tuneDecoder || !domains.equals("all")) {
            throw new UsageException("--tune-decoder and --domains apply to --task segmentation");
        }
        SuiteProtocol protocol = quick ? SuiteProtocol.QUICK : SuiteProtocol.FULL;
        if (epochs != null) {
            positive("--epochs", epochs);
            protocol = protocol.withEpochs(epochs);
        }
        if (seeds != null) {
            positive("--seeds", seeds);
            protocol = protocol.withSeeds(seeds);
        }
        List<MethodSpec> specs = usage(() -> MethodSpec.parseList(methods));
        List<SuiteTask> taskList = usage(this::taskList);
        Path outDir = out != null ? out : Path.of(quick ? "runs/suite-quick" : "runs/suite");
        if (Files.exists(outDir) && !Files.isDirectory(outDir)) {
            throw new UsageException("--out " + outDir + " is a file, not a folder");
        }
        backbone.check();
        VitConfig architecture = backbone.model != null ? VitConfig.fromDirectory(backbone.model)
                : VitPresets.get(FashionMnistDemo.BACKBONE_PRESET);
        for (MethodSpec spec : specs) {
            usage(() -> {
                spec.check(architecture);
                return null;
            });
        }

        boolean progress = !noProgress;
        BackboneOptions.Backbone b = backbone.resolve(taskList, progress);

        SuiteRunner.Plan plan = new SuiteRunner.Plan(protocol, taskList, specs, b.dir(), b.record(), backbone.dataDir,
                outDir, progress);
        if (run != null) {
            SuiteRunner.runOne(plan, run);
            return 0;
        }
        SuiteRunner.Result result;
        try {
            result = SuiteRunner.run(plan);
        } catch (SuiteRunner.MismatchException e) {
            throw new UsageException(e.getMessage());
        }
        SuiteReport.write(result.results(), outDir);
        System.out.println();
        System.out.print(SuiteReport.markdownTable(result.results()));
        System.out.println();
        System.out.println(result.executedRuns() + " runs trained now, " + result.reusedRuns()
                + " found done in " + outDir.resolve("runs"));
        List<String> files = new ArrayList<>();
        SuiteReport.FILES.forEach(f -> files.add(outDir.resolve(f).toString()));
        System.out.println("Results: " + String.join(", ", files));
        return 0;
    }

    private int segmentation() throws Exception {
        if (!tasks.equals("all")) {
            throw new UsageException("--tasks applies to the classification suite; segmentation takes --domains");
        }
        SegSuiteRunner.Profile profile = quick ? SegSuiteRunner.Profile.QUICK : SegSuiteRunner.Profile.FULL;
        if (epochs != null) {
            positive("--epochs", epochs);
            profile = profile.withEpochs(epochs);
        }
        int seedCount = seeds != null ? seeds : 1;
        positive("--seeds", seedCount);
        List<String> methodList = new ArrayList<>();
        for (String m : (methods.equals(DEFAULT_METHODS) ? DEFAULT_SEGMENTATION_METHODS : methods).split(",", -1)) {
            String name = m.strip();
            usage(() -> Methods.segmentationMethod(name));
            if (methodList.contains(name)) {
                throw new UsageException("method '" + name + "' is given twice");
            }
            methodList.add(name);
        }
        List<String> domainList = new ArrayList<>();
        for (String d : (domains.equals("all") ? String.join(",", SegDomains.DOMAINS) : domains).split(",", -1)) {
            String name = d.strip();
            if (!SegDomains.DOMAINS.contains(name)) {
                throw new UsageException("no segmentation domain '" + name + "'; domains: " + SegDomains.DOMAINS);
            }
            if (domainList.contains(name)) {
                throw new UsageException("domain '" + name + "' is given twice");
            }
            domainList.add(name);
        }
        Path outDir = out != null ? out : Path.of(quick ? "runs/segsuite-quick" : "runs/segsuite");
        if (Files.exists(outDir) && !Files.isDirectory(outDir)) {
            throw new UsageException("--out " + outDir + " is a file, not a folder");
        }
        String modelName = backbone.model != null ? backbone.model.toString() : SamPretraining.MODEL;
        Path model = backbone.model != null ? backbone.model
                : SamPretraining.ensure(backbone.cache != null ? backbone.cache : FashionMnistDemo.DEFAULT_CACHE_DIR,
                        SamPretraining.Recipe.DEFAULT, !noProgress);
        if (!Files.isRegularFile(model.resolve("config.json"))) {
            throw new UsageException("--model " + model + ": not a SAM model folder (config.json + model.safetensors)");
        }
        SegSuiteRunner.Result result;
        try {
            result = SegSuiteRunner.run(new SegSuiteRunner.Plan(domainList, methodList, seedCount, profile, tuneDecoder,
                    model, modelName, backbone.dataDir, outDir, !noProgress));
        } catch (org.peft4j.suite.SuiteFolder.SettingsMismatch e) {
            throw new UsageException(e.getMessage());
        }
        SegSuiteReport.write(result, outDir);
        System.out.println();
        System.out.print(SegSuiteReport.table(result, "miou_point"));
        System.out.println();
        System.out.println(SegSuiteReport.verdict(result));
        System.out.println(result.executed() + " runs trained now, " + result.reused() + " found done in "
                + outDir.resolve("runs"));
        List<String> files = new ArrayList<>();
        SegSuiteReport.FILES.forEach(f -> files.add(outDir.resolve(f).toString()));
        System.out.println("Results: " + String.join(", ", files));
        return 0;
    }

    /** {@code --task vl}: every routing with LoRA and adapters, and cross-attention, on VQA and captioning. */
    private int visionLanguage() throws Exception {
        if (!domains.equals("all") || tuneDecoder) {
            throw new UsageException("--domains and --tune-decoder apply to --task segmentation");
        }
        List<String> taskNames = new ArrayList<>();
        for (String t : (tasks.equals("all") ? "vqa,caption" : tasks).split(",", -1)) {
            String name = t.strip();
            if (!name.equals("vqa") && !name.equals("caption")) {
                throw new UsageException("--task vl has the tasks vqa and caption, not '" + name + "'");
            }
            if (taskNames.contains(name)) {
                throw new UsageException("task '" + name + "' is given twice");
            }
            taskNames.add(name);
        }
        List<VlSuiteRunner.Cell> cells = new ArrayList<>();
        if (methods.equals(DEFAULT_METHODS)) {
            cells.addAll(VlSuiteRunner.allCells());
        } else {
            for (String m : methods.split(",", -1)) {
                VlSuiteRunner.Cell cell = usage(() -> VlSuiteRunner.Cell.parse(m.strip()));
                if (cells.contains(cell)) {
                    throw new UsageException("method '" + m.strip() + "' is given twice");
                }
                cells.add(cell);
            }
        }
        int seedCount = seeds != null ? seeds : 1;
        positive("--seeds", seedCount);
        VlSuiteRunner.Profile profile = quick ? VlSuiteRunner.Profile.QUICK : VlSuiteRunner.Profile.FULL;
        if (epochs != null) {
            positive("--epochs", epochs);
            profile = new VlSuiteRunner.Profile(profile.name(), profile.vqaTrain(), profile.vqaTest(), epochs, profile.captionTrain(),
                    profile.captionTest(), epochs, profile.beams());
        }
        Path outDir = out != null ? out : Path.of(quick ? "runs/vlsuite-quick" : "runs/vlsuite");
        if (Files.exists(outDir) && !Files.isDirectory(outDir)) {
            throw new UsageException("--out " + outDir + " is a file, not a folder");
        }
        Path vision = VisionLanguageCommands.vision(backbone.model == null ? null : backbone.model.toString(), !noProgress);
        Path text = VisionLanguageCommands.text(textModel, !noProgress);
        Outputs.requireApart(outDir, vision, "the vision model folder");
        Outputs.requireApart(outDir, text, "the text model folder");
        VlSuiteRunner.Result result;
        try {
            result = VlSuiteRunner.run(new VlSuiteRunner.Plan(taskNames, cells, seedCount, profile, vision, text, outDir, !noProgress));
        } catch (org.peft4j.suite.SuiteFolder.SettingsMismatch e) {
            throw new UsageException(e.getMessage());
        }
        VlSuiteReport.write(result, outDir);
        for (String t : taskNames) {
            System.out.println();
            System.out.println(t + ": " + (t.equals("vqa") ? "VQA accuracy (%)" : "CIDEr-D (x100)"));
            System.out.print(VlSuiteReport.table(result, t));
            System.out.print(VlSuiteReport.verdict(result, t));
        }
        System.out.println(result.executed() + " runs trained now, " + result.reused() + " found done in " + outDir.resolve("runs"));
        List<String> files = new ArrayList<>();
        VlSuiteReport.FILES.forEach(f -> files.add(outDir.resolve(f).toString()));
        System.out.println("Results: " + String.join(", ", files));
        return 0;
    }

    private List<SuiteTask> taskList() {
        return tasks.equals("all") ? Suite.tasks() : taskNames(tasks);
    }

    /** Comma-separated suite task names, each once. */
    static List<SuiteTask> taskNames(String names) {
        List<SuiteTask> out = new ArrayList<>();
        for (String name : names.split(",", -1)) {
            SuiteTask t = Suite.task(name.strip());
            if (out.contains(t)) {
                throw new IllegalArgumentException("task '" + t.name() + "' is given twice");
            }
            out.add(t);
        }
        return out;
    }

    static void positive(String option, int value) {
        if (value <= 0) {
            throw new UsageException(option + " must be at least 1, got " + value);
        }
    }

    /** Runs a check whose IllegalArgumentException is the user's to fix: exit code 2. */
    static <T> T usage(Callable<T> check) throws Exception {
        try {
            return check.call();
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /**
     * Each run's own log lines (epochs, parameter counts, new heads) would bury the suite's progress
     * bar: they are shown from warnings up, unless debug logging (PEFT4J_LOG) or the loggers' own
     * properties ask for them.
     */
    static void quietPerRunLogs() {
        String level = System.getProperty("org.slf4j.simpleLogger.defaultLogLevel", "info");
        if (level.equals("debug") || level.equals("trace")) {
            return;
        }
        for (String logger : List.of("org.peft4j.train", "org.peft4j.models")) {
            String key = "org.slf4j.simpleLogger.log." + logger;
            if (System.getProperty(key) == null) {
                System.setProperty(key, "warn");
            }
        }
    }
}
