package org.peft4j.cli;

import ai.djl.ndarray.NDManager;
import org.peft4j.data.DataSpec;
import org.peft4j.data.ImageDataset;
import org.peft4j.io.Json;
import org.peft4j.merge.MergedAdapter;
import org.peft4j.merge.MultiTaskModel;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.train.FineTuning;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "eval-multi", mixinStandardHelpOptions = true,
        description = {"Evaluate every task of a merged adapter (merge-adapters) on its own test split: one backbone "
                + "pass per batch feeds all heads.", "Prints one JSON line per task: {\"task\":..,\"accuracy\":..,\"n\":..,...}."})
final class EvalMultiCommand implements Callable<Integer> {

    @Mixin
    ModelOption model;

    @Mixin
    AdapterOption adapter;

    @Spec
    CommandSpec spec;

    @Option(names = "--data", required = true, paramLabel = "TASK=SPEC,...",
            description = "A dataset per task (fashion-mnist, fashion-mnist:DIR, folder:PATH or suite:TASK).")
    String data;

    @Option(names = "--batch-size", defaultValue = "64")
    int batchSize;

    @Override
    public Integer call() throws Exception {
        if (adapter.adapter == null) {
            throw new ParameterException(spec.commandLine(), "Missing required option: '--adapter=DIR'");
        }
        if (!MergedAdapter.isMerged(adapter.adapter)) {
            throw new UsageException(adapter.adapter + " is not a merged adapter (no " + MergedAdapter.INFO_FILE
                    + "; write one with merge-adapters)");
        }
        MergedAdapter merged = MergedAdapter.read(adapter.adapter);
        Map<String, String> specs = TaskData.parse(data);
        for (String task : specs.keySet()) {
            if (!merged.taskNames().contains(task)) {
                throw new UsageException("--data: " + adapter.adapter + " has no task '" + task + "'; its tasks are "
                        + merged.taskNames());
            }
        }
        LinkedHashMap<String, ImageDataset> tests = new LinkedHashMap<>();
        specs.forEach((task, s) -> tests.put(task, DataSpec.resolve(s, 0.1, 42).test()));
        try (NDManager manager = NDManager.newBaseManager()) {
            VitForImageClassification vit = Models.base(model.model, null, manager);
            MultiTaskModel mt = MultiTaskModel.load(vit, merged, new ArrayList<>(specs.keySet()), manager);
            try {
                for (MultiTaskModel.TaskScore s : mt.evaluate(tests, FineTuning.transformFor(vit), batchSize).values()) {
                    System.out.println(Json.MAPPER.writeValueAsString(s.toJson()));
                }
            } catch (IllegalArgumentException e) { // a dataset whose classes are not its head's
                throw new UsageException(e.getMessage());
            }
        }
        return 0;
    }
}
