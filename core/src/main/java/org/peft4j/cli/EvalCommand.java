package org.peft4j.cli;

import ai.djl.ndarray.NDManager;
import org.peft4j.data.DataSpec;
import org.peft4j.data.ImageDataset;
import org.peft4j.io.Json;
import org.peft4j.merge.MergedAdapter;
import org.peft4j.merge.MultiTaskModel;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.train.FineTuning;
import org.peft4j.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Accuracy of a model (plus adapter) on a dataset's test split; prints {\"accuracy\":..,\"n\":..}.",
                "A merged multi-task adapter (merge-adapters) is evaluated with one task's head: --head TASK."})
final class EvalCommand implements Callable<Integer> {

    @Mixin
    ModelOption model;

    @Mixin
    AdapterOption adapter;

    @Option(names = "--data", required = true, description = "fashion-mnist, fashion-mnist:DIR, folder:PATH or suite:TASK.")
    String data;

    @Option(names = "--head", paramLabel = "TASK", description = "With a merged adapter: the task whose head to use.")
    String head;

    @Option(names = "--batch-size", defaultValue = "64")
    int batchSize;

    @Option(names = "--confusion", description = "Also print the confusion matrix (on stderr).")
    boolean confusion;

    @Override
    public Integer call() throws Exception {
        boolean merged = adapter.adapter != null && MergedAdapter.isMerged(adapter.adapter);
        if (head != null && !merged) {
            throw new UsageException("--head applies to merged adapters (folders written by merge-adapters); "
                    + (adapter.adapter == null ? "no --adapter was given" : adapter.adapter + " is not one"));
        }
        ImageDataset test = DataSpec.resolve(data, 0.1, 42).test();
        if (merged) {
            return evalTask(test);
        }
        try (NDManager manager = NDManager.newBaseManager()) {
            Models.Loaded loaded = Models.load(model.model, adapter.adapter, manager);
            List<String> labels = loaded.vit().config().labels();
            if (!labels.equals(test.classes())) {
                throw new IllegalArgumentException("label mismatch: the model predicts " + labels
                        + " but " + test.name() + " has classes " + test.classes());
            }
            Trainer.Evaluation eval = Trainer.evaluate(loaded.runnable(), test,
                    FineTuning.transformFor(loaded.vit()), batchSize, manager);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("accuracy", eval.accuracy());
            out.put("n", eval.confusion().total());
            out.put("loss", eval.loss());
            out.put("per_class", eval.confusion().toJson().get("per_class"));
            System.out.println(Json.MAPPER.writeValueAsString(out));
            if (confusion) {
                System.err.println(eval.confusion().format());
            }
        }
        return 0;
    }

    /** One task of a merged adapter, through the multi-head model (its backbone pass, its head). */
    private int evalTask(ImageDataset test) throws Exception {
        MergedAdapter m = MergedAdapter.read(adapter.adapter);
        String task = head;
        if (task == null) {
            if (m.tasks().size() != 1) {
                throw new UsageException(adapter.adapter + " is a merged adapter of tasks " + m.taskNames()
                        + ": choose one with --head TASK");
            }
            task = m.taskNames().get(0);
        }
        if (!m.taskNames().contains(task)) {
            throw new UsageException("--head: " + adapter.adapter + " has no task '" + task + "'; its tasks are "
                    + m.taskNames());
        }
        try (NDManager manager = NDManager.newBaseManager()) {
            VitForImageClassification vit = Models.base(model.model, null, manager);
            MultiTaskModel mt = MultiTaskModel.load(vit, m, List.of(task), manager);
            LinkedHashMap<String, ImageDataset> one = new LinkedHashMap<>();
            one.put(task, test);
            MultiTaskModel.TaskScore score = mt.evaluate(one, FineTuning.transformFor(vit), batchSize).get(task);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("accuracy", score.accuracy());
            out.put("n", score.n());
            out.put("loss", score.loss());
            out.put("per_class", score.confusion().toJson().get("per_class"));
            out.put("task", task);
            System.out.println(Json.MAPPER.writeValueAsString(out));
            if (confusion) {
                System.err.println(score.confusion().format());
            }
        }
        return 0;
    }
}
