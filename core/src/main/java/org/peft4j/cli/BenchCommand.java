package org.peft4j.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import org.peft4j.io.Json;
import org.peft4j.merge.AdapterMerging;
import org.peft4j.merge.LoraMerger;
import org.peft4j.merge.MergeMethod;
import org.peft4j.models.MultiHeadClassifier;
import org.peft4j.models.sam.SamModel;
import org.peft4j.nn.ForwardContext;
import org.peft4j.models.vit.VitConfig;
import org.peft4j.tuners.lora.LoraConfig;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.models.vit.VitNaming;
import org.peft4j.models.vit.VitPresets;
import org.peft4j.nn.Module;
import org.peft4j.peft.Methods;
import org.peft4j.peft.PeftModel;
import org.peft4j.train.AdamW;
import org.peft4j.train.Trainer;
import org.peft4j.tuners.TunerConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Time training or inference steps on random weights and inputs; prints JSON "
                + "(median and minimum step time, images/s, peak memory).",
                "--mode merge: merge --adapters random LoRA adapters (saved, loaded, merged, written as merge-adapters "
                        + "does) with --merge-method; --mode multihead: a forward pass feeding --adapters heads "
                        + "against one feeding a single head."})
final class BenchCommand implements Callable<Integer> {

    @Option(names = "--preset", defaultValue = "vit-ti16-224", description = "ViT preset (default ${DEFAULT-VALUE}).")
    String preset;

    @Option(names = "--model", paramLabel = "SAM",
            description = "Bench SAM's image encoder instead: sam-shapes (the default SAM), a SAM preset (sam-tiny, sam-mini, sam-vit-b, -l, -h) or folder; "
                    + "--mode infer times one forward pass at the model's input size.")
    String samModel;

    @Option(names = "--text", paramLabel = "PRESET|DIR",
            description = "Bench a text model instead: gpt2-small, gpt2-mini or a folder. --mode infer (forward against the "
                    + "GEMM peak), generate (with and without the key/value cache) or train (a vision-language step; "
                    + "--method lora|adapter|cross-attn, --routing).")
    String text;

    @Option(names = "--routing", defaultValue = "none", description = "--text --mode train: the routing (default ${DEFAULT-VALUE}).")
    String routing;

    @Option(names = "--seq-len", defaultValue = "128", description = "--text: tokens per sequence (default ${DEFAULT-VALUE}).")
    int seqLen;

    @Option(names = "--new-tokens", defaultValue = "32", description = "--text --mode generate: tokens generated (default ${DEFAULT-VALUE}).")
    int newTokens;

    @Option(names = "--prompt-tokens", defaultValue = "8", description = "--text --mode generate: prompt length (default ${DEFAULT-VALUE}).")
    int promptTokens;

    @Option(names = "--roofline", description = "Also report the step's FLOPs (counted from the model's configuration), the "
            + "achieved GFLOP/s, this libtorch's float32 GEMM peak measured in the same run (best of large square products), "
            + "their ratio, and where the time goes by op class (libtorch's profiler; optimizer timed apart).")
    boolean roofline;

    @Option(names = "--gradient-checkpointing", description = "--mode train: recompute each block in the backward pass.")
    boolean gradientCheckpointing;

    @Option(names = "--mode", defaultValue = "train", description = "train, infer, merge or multihead.")
    String mode;

    @Option(names = "--method",
            description = "Any train --method, or none (default: lora for train, none for infer; infer runs the adapter unmerged).")
    String method;

    @Mixin
    MethodFlags methodFlags;

    @Option(names = "--batch-size", defaultValue = "32")
    int batchSize;

    @Option(names = "--steps", defaultValue = "5", description = "Timed steps, after the warm-up.")
    int steps;

    @Option(names = "--warmup-steps", defaultValue = "2",
            description = "Fewest untimed warm-up steps (default 2); more run, up to 10, until a step's time is within 10% of the one before.")
    int warmupSteps;

    @Option(names = "--naming", defaultValue = "timm",
            description = "timm (fused qkv, like the PyTorch reference) or hf (separate query/key/value).")
    String naming;

    @Option(names = "--labels", defaultValue = "10", description = "Classifier size, as the PyTorch reference (10).")
    int labels;

    @Option(names = "--adapters", defaultValue = "6", description = "merge, multihead: adapters or heads (default ${DEFAULT-VALUE}).")
    int adapters;

    @Option(names = "--merge-method", defaultValue = "ties", description = "merge: the method (default ${DEFAULT-VALUE}).")
    String mergeMethod;

    @Option(names = "--density", defaultValue = "0.5", description = "merge: density of the pruning methods (default ${DEFAULT-VALUE}).")
    double density;

    @Override
    public Integer call() throws Exception {
        SuiteCommand.positive("--steps", steps);
        SuiteCommand.positive("--batch-size", batchSize);
        if (warmupSteps < 0) {
            throw new UsageException("--warmup-steps must be 0 or more, got " + warmupSteps);
        }
        if (text != null) {
            return TextBench.run(text, mode, method, routing, batchSize, seqLen, newTokens, promptTokens, steps, warmupSteps);
        }
        if (samModel != null) {
            if (!mode.equals("infer")) {
                throw new UsageException("--model (SAM) benches --mode infer only");
            }
            return benchSam();
        }
        if (mode.equals("merge") || mode.equals("multihead")) {
            SuiteCommand.positive("--adapters", adapters);
            return mode.equals("merge") ? benchMerge() : benchMultiHead();
        }
        boolean train = switch (mode) {
            case "train" -> true;
            case "infer" -> false;
            default -> throw new UsageException("--mode must be train, infer, merge or multihead, got '" + mode + "'");
        };
        String how = method != null ? Methods.canonical(method) : train ? "lora" : "none";
        if (train && how.equals("none")) {
            throw new UsageException("--mode train needs a --method that trains");
        }
        methodFlags.check(how, Set.of("none"));
        Engine.getInstance().setRandomSeed(0);
        try (NDManager manager = NDManager.newBaseManager()) {
            VitForImageClassification vit = model(manager);
            VitConfig config = vit.config();
            Map<String, Parameter> trainable = new LinkedHashMap<>();
            long allParams = vit.namedParameters().values().stream().mapToLong(Module::numel).sum();
            TunerConfig tuner = how.equals("none") ? null : methodFlags.config(how, vit);
            vit.setTrainable(false);
            if (tuner != null) {
                PeftModel peft = new PeftModel(vit, vit.headPath(), manager);
                peft.addAdapter(PeftModel.DEFAULT_ADAPTER, tuner);
                trainable = peft.trainableParameters();
                allParams = peft.counts().all();
            } else if (how.equals("full")) {
                vit.setTrainable(true);
                trainable = vit.namedParameters();
            } else if (how.equals("head")) {
                vit.head().setTrainable(true);
                for (Map.Entry<String, Parameter> e : vit.head().namedParameters().entrySet()) {
                    trainable.put(Module.join(vit.headPath(), e.getKey()), e.getValue());
                }
            }
            // Freed with the manager at the end of the run.
            AdamW optimizer = train ? new AdamW(trainable, 0.01, manager) : null;
            Random random = new Random(0);
            float[] pixels = randomPixels(batchSize, config.numChannels(), config.imageSize(), random);
            int[] y = new int[batchSize];
            for (int i = 0; i < batchSize; i++) {
                y[i] = random.nextInt(labels);
            }
            Shape shape = new Shape(batchSize, config.numChannels(), config.imageSize(), config.imageSize());
            List<Double> optimizerTimes = new ArrayList<>(); // one per step run, warm-up included
            Runnable step = () -> {
                try (NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    NDArray x = manager.create(pixels, shape);
                    if (train) {
                        if (gradientCheckpointing) {
                            Trainer.checkpointedBackward(vit, x, y, 1.0);
                        } else {
                            Trainer.backward(vit, x, y, 1.0);
                        }
                        long o0 = System.nanoTime();
                        optimizer.clipGradNorm(1.0);
                        optimizer.step(1e-3);
                        optimizerTimes.add((System.nanoTime() - o0) / 1e9);
                    } else {
                        vit.forward(x, false).sum().getFloat();
                    }
                }
            };
            StepTimes times = StepTimes.run(step, warmupSteps, steps);
            double median = times.median();
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("preset", preset);
            out.put("mode", mode);
            out.put("method", how);
            out.put("naming", naming);
            out.put("targets", tuner == null ? null : tuner.toJson().get("target_modules"));
            out.put("batch_size", batchSize);
            out.put("gradient_checkpointing", gradientCheckpointing);
            out.put("steps", steps);
            out.put("threads", Engine.getInstance().getEngineName().equals("PyTorch")
                    ? Integer.getInteger("ai.djl.pytorch.num_threads", Runtime.getRuntime().availableProcessors())
                    : Runtime.getRuntime().availableProcessors());
            out.put("trainable_params", trainable.values().stream().mapToLong(Module::numel).sum());
            out.put("all_params", allParams);
            out.put("images_per_s", batchSize / median);
            out.put("peak_rss_mb", peakRssMb());
            out.putAll(times.json());
            if (roofline) {
                double forward = org.peft4j.models.Flops.vit(config, batchSize);
                double flops = train ? org.peft4j.models.Flops.trainStep(forward, how.equals("full")) : forward;
                double[] timed = optimizerTimes.subList(optimizerTimes.size() - Math.min(steps, optimizerTimes.size()),
                        optimizerTimes.size()).stream().mapToDouble(Double::doubleValue).sorted().toArray();
                out.put("roofline", roofline(flops, median, timed.length > 0 ? timed[timed.length / 2] : 0, step, manager));
            }
            System.out.println(Json.MAPPER.writeValueAsString(out));
        }
        return 0;
    }

    /**
     * The roofline fields: {@code flops} per step against {@code median} seconds, the GEMM peak measured
     * now, and one more {@code step} under libtorch's profiler for the time by op class (the optimizer,
     * {@code optimizerSeconds} of the step, is timed apart: its element-wise ops would blur the classes).
     */
    static Map<String, Object> roofline(double flops, double median, double optimizerSeconds, Runnable step, NDManager manager)
            throws java.io.IOException {
        double peak = 0;
        for (int n : new int[] {1024, 2048}) { // the best of large square products: what this libtorch's BLAS reaches
            peak = Math.max(peak, TextBench.gemmPeak(manager, n, n, n));
        }
        OpProfile.Profile profile = OpProfile.of(step, 10);
        Map<String, Double> byClass = profile.byClass();
        double profiled = byClass.values().stream().mapToDouble(Double::doubleValue).sum();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("gflops_per_step", flops / 1e9);
        out.put("gflop_per_s", flops / 1e9 / median);
        out.put("gemm_peak_gflop_per_s", peak);
        out.put("fraction_of_peak", flops / 1e9 / median / peak);
        Map<String, Object> breakdown = new LinkedHashMap<>();
        byClass.forEach((k, v) -> breakdown.put(k, Map.of("seconds", v, "share", profiled > 0 ? v / (profiled + optimizerSeconds) : 0)));
        if (optimizerSeconds > 0) {
            breakdown.put("optimizer", Map.of("seconds", optimizerSeconds, "share", optimizerSeconds / (profiled + optimizerSeconds)));
        }
        out.put("breakdown", breakdown);
        out.put("top_ops_seconds", profile.topOps());
        return out;
    }

    private VitForImageClassification model(NDManager manager) {
        VitNaming layout = switch (naming) {
            case "timm" -> VitNaming.TIMM;
            case "hf" -> VitNaming.HF;
            default -> throw new UsageException("--naming must be timm or hf, got '" + naming + "'");
        };
        VitConfig config = VitPresets.get(preset).withLabels(VitConfig.defaultLabels(labels)).withNaming(layout);
        VitForImageClassification vit = new VitForImageClassification(config);
        vit.initialize(manager);
        return vit;
    }

    /**
     * Saves {@code --adapters} LoRA adapters (random A and B, so that every ΔW is non-zero) and times
     * merging them from their folders into a merged folder, as merge-adapters does.
     */
    private int benchMerge() throws Exception {
        MergeMethod m;
        try {
            m = MergeMethod.parse(mergeMethod);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        if (m.isAdaMerging()) {
            throw new UsageException("--mode merge does not time AdaMerging (it trains on images)");
        }
        methodFlags.check("lora", Set.of());
        Engine.getInstance().setRandomSeed(0);
        Path work = Files.createTempDirectory("peft4j-bench-merge-");
        try (NDManager manager = NDManager.newBaseManager()) {
            VitForImageClassification vit = model(manager);
            TunerConfig lora = methodFlags.config("lora", vit);
            List<AdapterMerging.Source> sources = new ArrayList<>();
            PeftModel maker = new PeftModel(vit, vit.headPath(), manager);
            for (int i = 0; i < adapters; i++) {
                String name = "task" + i;
                maker.addAdapter(name, ((LoraConfig) lora).withInit(LoraConfig.Init.RANDOM));
                maker.save(work.resolve(name), name);
                maker.deleteAdapter(name);
                sources.add(new AdapterMerging.Source(name, work.resolve(name)));
            }
            float[] w = new float[adapters];
            Arrays.fill(w, 1f);
            LoraMerger.Options options = new LoraMerger.Options(m, LoraMerger.LayerWeights.constant(w), adapters,
                    m.usesDensity() ? density : null, null, null, null, 0);
            double before = peakRssMb();
            long t0 = System.nanoTime();
            Map<String, Object> info = AdapterMerging.run(vit, null, sources, options, Map.of("method", m.cliName),
                    work.resolve("merged"), false, null, manager, false);
            double seconds = (System.nanoTime() - t0) / 1e9;
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("preset", preset);
            out.put("mode", mode);
            out.put("merge_method", m.cliName);
            out.put("adapters", adapters);
            out.put("rank", ((LoraConfig) lora).r());
            out.put("targets", lora.toJson().get("target_modules"));
            out.put("layers", info.get("layers"));
            out.put("merged_rank", info.get("rank"));
            out.put("seconds", seconds);
            out.put("peak_rss_mb_before_merge", before);
            out.put("peak_rss_mb", peakRssMb());
            System.out.println(Json.MAPPER.writeValueAsString(out));
        } finally {
            org.peft4j.io.AtomicFiles.deleteRecursively(work);
        }
        return 0;
    }

    /** One backbone pass feeding {@code --adapters} heads against the same pass feeding the model's own head. */
    private int benchMultiHead() throws Exception {
        Engine.getInstance().setRandomSeed(0);
        try (NDManager manager = NDManager.newBaseManager()) {
            VitForImageClassification vit = model(manager);
            MultiHeadClassifier heads = new MultiHeadClassifier(vit);
            Random random = new Random(0);
            int d = (int) vit.featureSize();
            for (int i = 0; i < adapters; i++) {
                float[] weight = new float[labels * d];
                for (int k = 0; k < weight.length; k++) {
                    weight[k] = (float) random.nextGaussian() * 0.02f;
                }
                heads.addHead("task" + i, weight, new float[labels], VitConfig.defaultLabels(labels), manager);
            }
            VitConfig c = vit.config();
            float[] pixels = randomPixels(batchSize, c.numChannels(), c.imageSize(), random);
            Shape shape = new Shape(batchSize, c.numChannels(), c.imageSize(), c.imageSize());
            double[] single = new double[steps];
            double[] multi = new double[steps];
            for (int i = 0; i < warmupSteps + steps; i++) { // interleaved, so both see the same machine state
                for (int which = 0; which < 2; which++) {
                    long t0 = System.nanoTime();
                    try (NDScope scope = new NDScope()) {
                        scope.suppressNotUsedWarning();
                        NDArray x = manager.create(pixels, shape);
                        if (which == 0) {
                            vit.forward(x, false).sum().getFloat();
                        } else {
                            heads.forward(x, ForwardContext.INFERENCE).values()
                                    .forEach(l -> l.sum().getFloat());
                        }
                    }
                    if (i >= warmupSteps) {
                        (which == 0 ? single : multi)[i - warmupSteps] = (System.nanoTime() - t0) / 1e9;
                    }
                }
            }
            Arrays.sort(single);
            Arrays.sort(multi);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("preset", preset);
            out.put("mode", mode);
            out.put("heads", adapters);
            out.put("batch_size", batchSize);
            out.put("steps", steps);
            out.put("single_head_median_s", single[steps / 2]);
            out.put("multi_head_median_s", multi[steps / 2]);
            out.put("overhead", multi[steps / 2] / single[steps / 2] - 1);
            out.put("peak_rss_mb", peakRssMb());
            System.out.println(Json.MAPPER.writeValueAsString(out));
        }
        return 0;
    }

    /** SAM's image encoder: {@code --steps} forward passes of {@code --batch-size} random images at the model's input size. */
    private int benchSam() throws Exception {
        Engine.getInstance().setRandomSeed(0);
        try (NDManager manager = NDManager.newBaseManager()) {
            SamModel sam = SamModels.load(samModel, null, manager, true);
            int size = sam.config().encoder().imgSize();
            Random random = new Random(0);
            float[] pixels = randomPixels(batchSize, 3, size, random);
            Runnable step = () -> {
                try (NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    sam.forward(manager.create(pixels, new Shape(batchSize, 3, size, size)),
                            ForwardContext.INFERENCE).sum().getFloat();
                }
            };
            StepTimes times = StepTimes.run(step, warmupSteps, steps);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("model", samModel);
            out.put("mode", "infer");
            out.put("part", "image_encoder");
            out.put("image_size", size);
            out.put("batch_size", batchSize);
            out.put("steps", steps);
            out.put("images_per_s", batchSize / times.median());
            out.put("peak_rss_mb", peakRssMb());
            out.putAll(times.json());
            if (roofline) {
                double flops = org.peft4j.models.Flops.samEncoder(sam.config().encoder(), batchSize);
                out.put("roofline", roofline(flops, times.median(), 0, step, manager));
            }
            System.out.println(Json.MAPPER.writeValueAsString(out));
        }
        return 0;
    }

    /** A batch of Gaussian pixels; a batch larger than one Java array holds is refused before anything is allocated. */
    static float[] randomPixels(int batchSize, int channels, int size, Random random) {
        long n = (long) batchSize * channels * size * size;
        if (n > Integer.MAX_VALUE - 8) {
            throw new UsageException("--batch-size " + batchSize + ": " + n + " pixel values (" + channels + "×" + size + "×"
                    + size + " per image) exceed one batch's limit of " + (Integer.MAX_VALUE - 8) + "; at most "
                    + (Integer.MAX_VALUE - 8) / ((long) channels * size * size) + " images");
        }
        float[] pixels = new float[(int) n];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (float) random.nextGaussian();
        }
        return pixels;
    }

    /** Peak resident memory of this process (VmHWM), which includes native tensors and the JVM heap. */
    static double peakRssMb() throws IOException {
        Path status = Path.of("/proc/self/status");
        if (!Files.isReadable(status)) {
            return Double.NaN;
        }
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
            }
        }
        return Double.NaN;
    }
}
