package org.peft4j.cli;

import ai.djl.ndarray.NDManager;
import org.peft4j.data.DataSpec;
import org.peft4j.data.ImageDataset;
import org.peft4j.io.Json;
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
        description = "Accuracy of a model (plus adapter) on a dataset's test split; prints {\"accuracy\":..,\"n\":..}.")
final class EvalCommand implements Callable<Integer> {

    @Mixin
    ModelOption model;

    @Mixin
    AdapterOption adapter;

    @Option(names = "--data", required = true, description = "fashion-mnist, fashion-mnist:DIR, folder:PATH or suite:TASK.")
    String data;

    @Option(names = "--batch-size", defaultValue = "64")
    int batchSize;

    @Option(names = "--confusion", description = "Also print the confusion matrix (on stderr).")
    boolean confusion;

    @Override
    public Integer call() throws Exception {
        ImageDataset test = DataSpec.resolve(data, 0.1, 42).test();
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
}
