package org.peft4j.cli;

import org.peft4j.data.suite.SuiteTask;
import org.peft4j.mergestudy.MergeStudy;
import org.peft4j.mergestudy.StudyReport;
import org.peft4j.suite.SuiteProtocol;
import org.peft4j.suite.SuiteRunner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "merge-study", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "The multi-LoRA merging experiment in miniature: one LoRA (r=8, query+value, own head) and one head-only "
                    + "model per task of the benchmark suite; every pair and triple of tasks merged with every method "
                    + "(each adapter weighted --weight, default 1); each task of a merge scored with its own head; and three task similarities (data, "
                    + "ΔW cosine, CKA of adapted features) against the accuracy drop, to test whether dissimilar tasks "
                    + "merge better.",
            "",
            "Writes results.md (headline table), results.csv, results.json and report.html (tables, scatter plots). "
                    + "Trained adapters stay under OUT/adapters; every finished run and merge is saved under OUT/runs, "
                    + "so a second call resumes. Full profile: the suite's VTAB-1k sizes (1000 training, 2000 test "
                    + "images per task), 8 epochs, the largest rate of each method's grid. --quick: 200 + 50 training, "
                    + "400 test images, 3 epochs.",
            ""
        })
final class MergeStudyCommand implements Callable<Integer> {

    static final String DEFAULT_TASKS = "fashion-mnist,glyph-digits,font-style,textures,dsprites-location,dsprites-orientation";
    static final String DEFAULT_METHODS = "cat,linear,svd,ties,dare_ties,magnitude_prune,task_arithmetic,ties_merging,emr_merging";

    @Option(names = "--tasks", defaultValue = DEFAULT_TASKS, paramLabel = "NAME,...",
            description = "Suite tasks to merge (default ${DEFAULT-VALUE}).")
    String tasks;

    @Option(names = "--methods", defaultValue = DEFAULT_METHODS, paramLabel = "NAME[:DENSITY],...",
            description = "Merge methods (merge-adapters' names); pruning methods take a density, default 0.5: "
                    + "ties:0.3. Default: ${DEFAULT-VALUE}.")
    String methods;

    @Option(names = "--sizes", defaultValue = "2,3", split = ",", paramLabel = "K,...",
            description = "How many tasks each merge combines (default pairs and triples).")
    List<Integer> sizes;

    @Option(names = "--weight", defaultValue = "1", description = "Every adapter's merge weight (default ${DEFAULT-VALUE}: "
            + "the updates added; 1/k averages k tasks). Results of other weights are kept apart, as METHOD w=W.")
    double weight;

    @Option(names = "--out", paramLabel = "DIR", description = "Results folder (default runs/merge-study, runs/merge-study-quick with --quick).")
    Path out;

    @Option(names = "--quick", description = "The smoke profile (see above).")
    boolean quick;

    @Option(names = "--epochs", description = "Epochs per training run instead of the profile's.")
    Integer epochs;

    @Mixin
    BackboneOptions backbone;

    @Option(names = "--no-progress", description = "No progress bar.")
    boolean noProgress;

    @Override
    public Integer call() throws Exception {
        SuiteCommand.quietPerRunLogs();
        SuiteProtocol protocol = (quick ? SuiteProtocol.QUICK : SuiteProtocol.FULL).withSeeds(1);
        if (epochs != null) {
            SuiteCommand.positive("--epochs", epochs);
            protocol = protocol.withEpochs(epochs);
        }
        List<MergeStudy.MethodChoice> choices = SuiteCommand.usage(() -> MergeStudy.MethodChoice.parseList(methods));
        List<SuiteTask> taskList = SuiteCommand.usage(() -> SuiteCommand.taskNames(tasks));
        Path outDir = out != null ? out : Path.of(quick ? "runs/merge-study-quick" : "runs/merge-study");
        if (Files.exists(outDir) && !Files.isDirectory(outDir)) {
            throw new UsageException("--out " + outDir + " is a file, not a folder");
        }
        backbone.check();
        SuiteCommand.usage(() -> {
            MergeStudy.Plan.check(taskList.size(), sizes, weight); // before anything is trained
            return null;
        });
        boolean progress = !noProgress;
        BackboneOptions.Backbone b = backbone.resolve(taskList, progress);
        MergeStudy.Results results;
        try {
            results = MergeStudy.run(new MergeStudy.Plan(protocol, taskList, choices, sizes, weight, b.dir(), b.record(),
                    backbone.dataDir, outDir, progress));
        } catch (SuiteRunner.MismatchException e) {
            throw new UsageException(e.getMessage());
        }
        StudyReport.write(results, outDir);
        System.out.println();
        System.out.print(StudyReport.headline(results));
        System.out.println();
        System.out.println(StudyReport.finding(results));
        System.out.println();
        System.out.println(results.trained() + " models trained and " + results.merged() + " merges evaluated now, "
                + results.reused() + " found done in " + outDir.resolve("runs"));
        List<String> files = new ArrayList<>();
        StudyReport.FILES.forEach(f -> files.add(outDir.resolve(f).toString()));
        System.out.println("Results: " + String.join(", ", files));
        return 0;
    }
}
