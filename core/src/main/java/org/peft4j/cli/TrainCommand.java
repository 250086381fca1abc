package org.peft4j.cli;

import ai.djl.ndarray.NDManager;
import org.peft4j.data.DataSpec;
import org.peft4j.data.ImageDataset;
import org.peft4j.data.ImageDatasets;
import org.peft4j.io.AtomicFiles;
import org.peft4j.io.Json;
import org.peft4j.data.seg.SegData;
import org.peft4j.data.seg.SegDomains;
import org.peft4j.models.sam.SamModel;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.train.SamPretraining;
import org.peft4j.train.SegFineTuning;
import org.peft4j.train.FineTuning;
import org.peft4j.train.VlFineTuning;
import org.peft4j.tuners.routing.Routing;
import org.peft4j.tuners.routing.RoutingConfig;
import org.peft4j.peft.Methods;
import org.peft4j.train.TrainConfig;
import org.peft4j.tuners.TunerConfig;
import org.peft4j.tuners.lora.LoraConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Fine-tune a ViT on an image dataset (--task classification, the default) or SAM on "
                + "image + mask pairs (--task segmentation); writes the adapter (PEFT format), metrics.jsonl and "
                + "summary.json, and prints a JSON summary.",
                "",
                "Segmentation: promptable training (each image gives up to 4 regions of its mask, each prompted by a "
                        + "random point set or a jittered box; focal + dice + IoU-head loss), then the test split is scored with "
                        + "fixed prompts (each region's deepest pixel; its box): mIoU over the foreground classes."})
final class TrainCommand implements Callable<Integer> {

    @Option(names = "--model", paramLabel = "DIR|PRESET",
            description = "Classification: a ViT folder (config.json + model.safetensors, Hugging Face or timm names) or "
                    + "preset (required). Segmentation: " + SamModels.DESCRIPTION + " Default " + SamPretraining.MODEL + ".")
    String model;

    @Option(names = "--task", defaultValue = "classification",
            description = "classification (a ViT), segmentation (SAM), vqa or caption (a ViT and a language model); "
                    + "default ${DEFAULT-VALUE}.")
    String task;

    @Option(names = "--data",
            description = "Classification (required): fashion-mnist, fashion-mnist:DIR, folder:PATH or suite:TASK (its fixed "
                    + "train/val/test splits; --val-fraction does not apply). Segmentation (required): " + SegData.ACCEPTED
                    + ". vqa/caption: the built-in task (default), or vqa:DIR / caption:DIR (train.jsonl + test.jsonl, or "
                    + "data.jsonl, next to the images).")
    String data;

    @Option(names = "--text-model", paramLabel = "DIR",
            description = "vqa/caption: the language model (bert, roberta or gpt2 folder with tokenizer.json); default the "
                    + "project's GPT-2 pretrained on Debian's fortunes (" + VisionLanguageCommands.TEXT_MODEL + ").")
    Path textModel;

    @Option(names = "--routing", defaultValue = "none",
            description = "vqa/caption: the routing function in the LoRA/adapter bottleneck: none, add, mul, mul_expand or vl "
                    + "(default ${DEFAULT-VALUE}).")
    String routing;

    @Option(names = "--method", defaultValue = "lora",
            description = "Classification: lora, dora, pissa, mlae, adapter-houlsby, adapter-pfeiffer, adaptformer, "
                    + "vpt-shallow, vpt-deep, prefix, mopeft, bitfit, ssf, ia3, head or full. Segmentation: mopeft, lora, "
                    + "adapter, prefix, vpt, decoder-only or zero-shot (no training). Default ${DEFAULT-VALUE}.")
    String method;

    @Mixin
    MethodFlags methodFlags;

    @Option(names = "--tune-decoder", description = "Segmentation: train SAM's mask decoder too (saved with the adapter).")
    boolean tuneDecoder;

    @Option(names = "--epochs", description = "Epochs (default 3; 12 for segmentation).")
    Integer epochs;

    @Option(names = "--lr", description = "Peak learning rate (default: 1e-4 for full, 1e-3 otherwise; segmentation: "
            + "1e-3 for decoder-only, 3e-3 otherwise).")
    Double lr;

    @Option(names = "--batch-size", description = "Batch size (default 32; 16 for segmentation).")
    Integer batchSize;

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

    @Option(names = "--test-fraction", defaultValue = "0.2",
            description = "Segmentation folders without train/ and test/: the held-out share (default ${DEFAULT-VALUE}).")
    double testFraction;

    @Option(names = "--limit-per-class", description = "Use at most N training images per class (few-shot runs).")
    Integer limitPerClass;

    @Option(names = "--overwrite", description = "Replace --out if it holds anything (without it, --out must be new or empty).")
    boolean overwrite;

    @Option(names = "--resume", description = "Continue from OUT/checkpoint if present.")
    boolean resume;

    @Option(names = "--no-progress", description = "No progress bar.")
    boolean noProgress;

    @Option(names = "--gradient-checkpointing", description = "Classification: keep only each block's input and recompute "
            + "the block during the backward pass (less memory, about one more forward of time; the same gradients).")
    boolean gradientCheckpointing;

    @Option(names = "--out", required = true, description = "Output folder.")
    Path out;

    @Override
    public Integer call() throws Exception {
        // --out (emptied by --overwrite, deleted after a failure) must never hold what the run reads.
        for (String input : new String[] {model, textModel == null ? null : textModel.toString(), data}) {
            Path p = input == null ? null : Path.of(input.contains(":") ? input.substring(input.indexOf(':') + 1) : input);
            if (p != null && Files.exists(p) && p.toAbsolutePath().normalize().startsWith(out.toAbsolutePath().normalize())) {
                throw new UsageException("--out " + out + " holds the input " + input + "; choose another --out");
            }
        }
        boolean existed = Files.isDirectory(out);
        boolean fresh = Outputs.claimFolder(out, overwrite, resume);
        try {
            return train();
        } catch (Exception | Error e) { // a failed new run leaves no partial --out behind
            if (fresh) {
                Outputs.discard(out, existed, e);
            }
            throw e;
        }
    }

    private int train() throws Exception {
        if (gradientCheckpointing && !task.equals("classification")) {
            throw new UsageException("--gradient-checkpointing applies to --task classification");
        }
        if (task.equals("vqa") || task.equals("caption")) {
            return visionLanguage();
        }
        if (!task.equals("classification") && !task.equals("segmentation")) {
            throw new UsageException("--task must be classification, segmentation, vqa or caption, got '" + task + "'");
        }
        if (data == null) {
            throw new UsageException("Missing required option: '--data=<data>'");
        }
        if (textModel != null || !routing.equals("none")) {
            throw new UsageException("--text-model and --routing apply to --task vqa and caption");
        }
        if (task.equals("segmentation")) {
            return segmentation();
        }
        if (model == null) {
            throw new UsageException("--model is required for classification (a ViT folder or preset)");
        }
        if (tuneDecoder) {
            throw new UsageException("--tune-decoder applies to --task segmentation");
        }
        int batchSize = this.batchSize != null ? this.batchSize : 32;
        int epochs = this.epochs != null ? this.epochs : 3;
        method = Methods.canonical(method);
        methodFlags.check(method, java.util.Set.of()); // usage errors before any work
        DataSpec.Splits splits = DataSpec.resolve(data, valFraction, seed);
        if (limitPerClass != null) {
            ImageDataset few = ImageDatasets.limitPerClass(splits.train(), limitPerClass, seed);
            splits = new DataSpec.Splits(few, splits.val(), splits.test());
        }
        double peak = lr != null ? lr : method.equals("full") ? 1e-4 : 1e-3;
        TrainConfig config = new TrainConfig(epochs, batchSize, peak, weightDecay, warmup, gradAccum, maxGradNorm,
                seed, 20, true, gradientCheckpointing);
        try (NDManager manager = NDManager.newBaseManager()) {
            // A new head for the data's classes is drawn from the seed too, not from whatever the JVM drew before
            // (a Spark replica or a test shares the JVM's one generator).
            ai.djl.engine.Engine.getInstance().setRandomSeed((int) seed);
            VitForImageClassification vit = Models.base(model, splits.train().classes(), manager);
            ai.djl.engine.Engine.getInstance().setRandomSeed((int) seed); // after the base: a preset seeds its own weights
            TunerConfig tuner = methodFlags.config(method, vit);
            if (tuner instanceof LoraConfig lora) { // as PEFT records it; merge-adapters compares it
                tuner = lora.withBaseModel(Models.identity(model));
            }
            FineTuning.Outcome outcome = FineTuning.run(vit, method, tuner, config, splits, out, manager, !noProgress, resume);
            report(outcome.toJson(), splits.train().size(), splits.test().size());
        }
        return 0;
    }

    /** Writes OUT/summary.json and prints it as one JSON line. */
    void report(Map<String, Object> summary, int train, int test) throws java.io.IOException {
        summary.put("n_train", train);
        summary.put("n_test", test);
        summary.put("out", out.toString());
        AtomicFiles.writeString(out.resolve("summary.json"), Json.toPythonStyle(summary) + "\n");
        org.peft4j.train.DataParallel replica = org.peft4j.train.DataParallel.current();
        if (replica == null || replica.rank() == 0) { // the other replicas of a data-parallel run write nothing of note
            System.out.println(Json.MAPPER.writeValueAsString(summary));
        }
    }

    /** {@code --task vqa|caption}: a frozen ViT and language model with a vision-language tuner. */
    private int visionLanguage() throws Exception {
        if (tuneDecoder) {
            throw new UsageException("--tune-decoder applies to --task segmentation");
        }
        VlFineTuning.Recipe defaults;
        try {
            defaults = VlFineTuning.Recipe.defaults(task, RoutingConfig.Method.of(method), Routing.of(routing));
            defaults = new VlFineTuning.Recipe(task, defaults.method(), defaults.routing(),
                    methodFlags.rank != null ? methodFlags.rank : defaults.rank(),
                    methodFlags.alpha != null ? methodFlags.alpha : (methodFlags.rank != null ? methodFlags.rank : defaults.alpha()),
                    methodFlags.bottleneck != null ? methodFlags.bottleneck : defaults.bottleneck(),
                    epochs != null ? epochs : defaults.epochs(), batchSize != null ? batchSize : defaults.batchSize(),
                    lr != null ? lr : defaults.lr(), weightDecay, warmup, maxGradNorm, seed, defaults.beams());
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        VisionLanguageCommands.run(task, data, model, textModel, defaults, out, !noProgress, this::report);
        return 0;
    }

    /** {@code --task segmentation}: SAM on image + mask pairs. */
    private int segmentation() throws Exception {
        String sam = model != null ? model : SamPretraining.MODEL;
        TunerConfig tuner = methodFlags.samConfig(method, tuneDecoder);
        if (tuneDecoder && tuner == null) {
            throw new UsageException("--tune-decoder trains the decoder beside an adapter; --method " + method + " has none");
        }
        if (data.startsWith("segfolder:")) {
            Outputs.requireApart(out, Path.of(data.substring("segfolder:".length())), "the data folder");
        }
        SegDomains.Splits splits;
        try {
            splits = SegData.resolve(data, SegDomains.Sizes.FULL, testFraction, seed);
        } catch (IllegalArgumentException | org.peft4j.data.DataException e) {
            throw new UsageException(e.getMessage());
        }
        int epochs = this.epochs != null ? this.epochs : 12;
        int batchSize = this.batchSize != null ? this.batchSize : 16;
        TrainConfig config = new TrainConfig(epochs, batchSize, lr != null ? lr : Methods.samLearningRate(method), weightDecay, warmup, gradAccum,
                maxGradNorm, seed, 10, false);
        try (NDManager manager = NDManager.newBaseManager()) {
            SamModel samModel = SamModels.load(sam, null, manager, !noProgress);
            ai.djl.engine.Engine.getInstance().setRandomSeed((int) seed);
            if (tuner instanceof LoraConfig lora) {
                tuner = lora.withBaseModel(SamModels.identity(sam));
            }
            SegFineTuning.Outcome outcome = SegFineTuning.run(samModel, method, tuner, config, splits.train(),
                    splits.test(), out, manager, !noProgress, resume, 0);
            Map<String, Object> summary = outcome.toJson();
            summary.put("task", "segmentation");
            summary.put("tune_decoder", tuneDecoder);
            report(summary, splits.train().size(), splits.test().size());
        }
        return 0;
    }
}