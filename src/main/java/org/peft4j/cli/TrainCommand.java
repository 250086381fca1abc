package org.peft4j.cli;

import ai.djl.ndarray.NDManager;
import org.peft4j.data.DataSpec;
import org.peft4j.data.ImageDataset;
import org.peft4j.data.ImageDatasets;
import org.peft4j.io.AtomicFiles;
import org.peft4j.io.Json;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.train.FineTuning;
import org.peft4j.peft.Methods;
import org.peft4j.train.TrainConfig;
import org.peft4j.tuners.TunerConfig;
import org.peft4j.tuners.lora.LoraConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Fine-tune a ViT on an image dataset; writes the adapter (PEFT format), metrics.jsonl "
                + "and prints a JSON summary.")
final class TrainCommand implements Callable<Integer> {

    @Mixin
    ModelOption model;

    @Option(names = "--data", required = true,
            description = "fashion-mnist, fashion-mnist:DIR, folder:PATH or suite:TASK (its fixed train/val/test splits; "
                    + "--val-fraction does not apply).")
    String data;

    @Option(names = "--method", defaultValue = "lora",
            description = "lora, dora, pissa, mlae, adapter-houlsby, adapter-pfeiffer, adaptformer, vpt-shallow, vpt-deep, "
                    + "prefix, bitfit, ssf, ia3, head or full (default ${DEFAULT-VALUE}).")
    String method;

    @Mixin
    MethodFlags methodFlags;

    @Option(names = "--epochs", defaultValue = "3")
    int epochs;

    @Option(names = "--lr", description = "Peak learning rate (default: 1e-4 for full, 1e-3 otherwise).")
    Double lr;

    @Option(names = "--batch-size", defaultValue = "32")
    int batchSize;

    @Option(names = "--weight-decay", defaultValue = "0.01")
    double weightDecay;

    @Option(names = "--warmup", defaultValue = "0.1", description = "Warm-up fraction of the steps (default ${DEFAULT-VALUE}).")
    double warmup;

    @Option(names = "--grad-accum", defaultValue = "1", description = "Gradient accumulation steps.")
    int gradAccum;

    @Option(names = "--max-grad-norm", defaultValue = "1.0", description = "Global gradient-norm clip; 0 disables.")
    double maxGradNorm;

    @Option(names = "--seed", defaultValue = "42")
    long seed;

    @Option(names = "--val-fraction", defaultValue = "0.1")
    double valFraction;

    @Option(names = "--limit-per-class", description = "Use at most N training images per class (few-shot runs).")
    Integer limitPerClass;

    @Option(names = "--resume", description = "Continue from OUT/checkpoint if present.")
    boolean resume;

    @Option(names = "--no-progress", description = "No progress bar.")
    boolean noProgress;

    @Option(names = "--out", required = true, description = "Output folder.")
    Path out;

    @Override
    public Integer call() throws Exception {
        method = Methods.canonical(method);
        methodFlags.check(method, java.util.Set.of()); // usage errors before any work
        DataSpec.Splits splits = DataSpec.resolve(data, valFraction, seed);
        if (limitPerClass != null) {
            ImageDataset few = ImageDatasets.limitPerClass(splits.train(), limitPerClass, seed);
            splits = new DataSpec.Splits(few, splits.val(), splits.test());
        }
        double peak = lr != null ? lr : method.equals("full") ? 1e-4 : 1e-3;
        TrainConfig config = new TrainConfig(epochs, batchSize, peak, weightDecay, warmup, gradAccum, maxGradNorm,
                seed, 20, true);
        try (NDManager manager = NDManager.newBaseManager()) {
            VitForImageClassification vit = Models.base(model.model, splits.train().classes(), manager);
            ai.djl.engine.Engine.getInstance().setRandomSeed((int) seed); // after the base: a preset seeds its own weights
            TunerConfig tuner = methodFlags.config(method, vit);
            if (tuner instanceof LoraConfig lora) { // as PEFT records it; merge-adapters compares it
                tuner = lora.withBaseModel(Models.identity(model.model));
            }
            FineTuning.Outcome outcome = FineTuning.run(vit, method, tuner, config, splits, out, manager, !noProgress, resume);
            Map<String, Object> summary = outcome.toJson();
            summary.put("n_train", splits.train().size());
            summary.put("n_test", splits.test().size());
            summary.put("out", out.toString());
            AtomicFiles.writeString(out.resolve("summary.json"), Json.toPythonStyle(summary) + "\n");
            System.out.println(Json.MAPPER.writeValueAsString(summary));
        }
        return 0;
    }
}
