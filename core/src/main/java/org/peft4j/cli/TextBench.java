package org.peft4j.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import org.peft4j.io.Json;
import org.peft4j.models.text.Generator;
import org.peft4j.models.text.Gpt2Model;
import org.peft4j.models.text.TextCheckpoint;
import org.peft4j.models.text.TextConfig;
import org.peft4j.models.text.TextModel;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.models.vit.VitPresets;
import org.peft4j.models.vl.VisionLanguageModel;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.Module;
import org.peft4j.peft.PeftModel;
import org.peft4j.train.AdamW;
import org.peft4j.train.VlFineTuning;
import org.peft4j.tuners.routing.Routing;
import org.peft4j.tuners.routing.RoutingConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;

/**
 * {@code bench --text}: a text model's forward against this machine's GEMM peak, generation with
 * and without the key/value cache, and a vision-language training step with and without routing.
 * Random weights; JSON on stdout.
 */
final class TextBench {

    private TextBench() {}

    static int run(String text, String mode, String method, String routing, int batchSize, int seqLen, int newTokens,
                   int promptTokens, int steps, int warmup) throws Exception {
        Engine.getInstance().setRandomSeed(0);
        try (NDManager manager = NDManager.newBaseManager()) {
            Module model;
            if (Files.isRegularFile(Path.of(text).resolve("config.json"))) {
                model = TextCheckpoint.load(Path.of(text), manager);
            } else {
                TextConfig c;
                try {
                    c = TextConfig.preset(text);
                } catch (IllegalArgumentException e) {
                    throw new UsageException("--text " + text + ": " + e.getMessage() + " (or a text model folder)");
                }
                model = TextCheckpoint.create(c);
                model.initialize(manager);
            }
            TextModel tm = (TextModel) model;
            model.setTrainable(false);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("text", text);
            out.put("mode", mode);
            out.put("threads", Integer.getInteger("ai.djl.pytorch.num_threads", Runtime.getRuntime().availableProcessors()));
            switch (mode) {
                case "infer" -> infer(tm, batchSize, seqLen, steps, warmup, manager, out);
                case "generate" -> generate(tm, promptTokens, newTokens, steps, warmup, manager, out);
                case "train" -> vlTrain(model, method, routing, batchSize, seqLen, steps, warmup, manager, out);
                default -> throw new UsageException("--text benches --mode infer, generate or train, got '" + mode + "'");
            }
            out.put("peak_rss_mb", BenchCommand.peakRssMb());
            System.out.println(Json.MAPPER.writeValueAsString(out));
        }
        return 0;
    }

    /**
     * Median, minimum and p90 of {@code steps} timed calls, each in its own scope, after the warm-up
     * {@link StepTimes} runs (at least {@code warmup} calls, more until the time is steady).
     */
    static double[] time(Supplier<Object> body, int steps, int warmup) {
        StepTimes t = StepTimes.run(() -> {
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                body.get();
            }
        }, warmup, steps);
        return new double[] {t.median(), t.min(), t.p90()};
    }

    private static long[] randomIds(int n, int vocab, Random random) {
        long[] ids = new long[n];
        for (int i = 0; i < n; i++) {
            ids[i] = random.nextInt(vocab);
        }
        return ids;
    }

    /** The forward's matmul FLOPs, and the rate of one large matmul of the same engine: the GEMM peak. */
    private static void infer(TextModel tm, int b, int n, int steps, int warmup, NDManager manager, Map<String, Object> out) {
        TextConfig c = tm.config();
        long[] ids = randomIds(b * n, c.vocabSize(), new Random(0));
        double[] t = time(() -> {
            NDArray x = manager.create(ids, new Shape(b, n));
            NDArray h = tm.hiddenStates(x, ForwardContext.INFERENCE);
            return (tm.causal() ? tm.logits(h) : h).sum().getFloat();
        }, steps, warmup);
        long d = c.hiddenSize();
        long tokens = (long) b * n;
        double flops = org.peft4j.models.Flops.text(c, b, n, tm.causal()); // the tied LM head for decoders
        double peak = gemmPeak(manager, (int) tokens, (int) d, c.intermediateSize());
        out.put("batch_size", b);
        out.put("seq_len", n);
        out.put("median_s", t[0]);
        out.put("min_s", t[1]);
        out.put("p90_s", t[2]);
        out.put("gflops", flops / 1e9);
        out.put("gflop_per_s", flops / 1e9 / t[0]);
        out.put("gemm_peak_gflop_per_s", peak);
        out.put("fraction_of_peak", flops / 1e9 / t[0] / peak);
    }

    /** GFLOP/s of {@code [m, k] × [k, n]} (best of 5 after 2 warm-ups): what this engine's BLAS reaches. */
    static double gemmPeak(NDManager manager, int m, int k, int n) {
        NDArray a = manager.randomNormal(new Shape(m, k));
        NDArray w = manager.randomNormal(new Shape(k, n));
        double[] t = time(() -> a.matMul(w).getFloat(0, 0), 5, 2);
        return 2.0 * m * k * n / 1e9 / t[1];
    }

    private static void generate(TextModel tm, int promptTokens, int newTokens, int steps, int warmup, NDManager manager,
                                 Map<String, Object> out) {
        if (!tm.causal()) {
            throw new UsageException("--mode generate needs a decoder (gpt2)");
        }
        if (promptTokens < 1) {
            throw new UsageException("--prompt-tokens must be at least 1, got " + promptTokens);
        }
        long[] prompt = randomIds(promptTokens, tm.config().vocabSize(), new Random(1));
        double[] cached = time(() -> Generator.greedy(tm, null, new long[][] {prompt}, newTokens, -1, true,
                x -> ForwardContext.INFERENCE, manager), steps, warmup);
        double[] plain = time(() -> Generator.greedy(tm, null, new long[][] {prompt}, newTokens, -1, false,
                x -> ForwardContext.INFERENCE, manager), steps, warmup);
        out.put("prompt_tokens", prompt.length);
        out.put("new_tokens", newTokens);
        out.put("cache_median_s", cached[0]);
        out.put("no_cache_median_s", plain[0]);
        out.put("speedup", plain[0] / cached[0]);
        out.put("cache_tokens_per_s", newTokens / cached[0]);
    }

    /** One VL training step (ViT preset vit-fmnist-demo, frozen, tokens precomputed) with the given tuner and routing. */
    private static void vlTrain(Module text, String method, String routing, int b, int n, int steps, int warmup, NDManager manager,
                                Map<String, Object> out) {
        VitForImageClassification vit = new VitForImageClassification(VitPresets.get("vit-fmnist-demo"));
        vit.initialize(manager);
        VisionLanguageModel vlm = new VisionLanguageModel(vit, text, 0);
        vlm.initializeNew(manager);
        VlFineTuning.Recipe recipe = VlFineTuning.Recipe.defaults("caption", RoutingConfig.Method.of(method == null ? "lora" : method),
                Routing.of(routing));
        PeftModel peft = new PeftModel(vlm, null, manager);
        peft.addAdapter(PeftModel.DEFAULT_ADAPTER, VlFineTuning.tunerConfig(recipe, ((TextModel) text).config()));
        Map<String, Parameter> trainable = peft.trainableParameters();
        AdamW optimizer = new AdamW(trainable, 0.01, manager);
        NDArray tokens = vlm.visualTokens(manager.randomNormal(new Shape(b, 1, 28, 28)));
        long[] ids = randomIds(b * n, ((TextModel) text).config().vocabSize(), new Random(2));
        double[] t = time(() -> {
            NDArray x = manager.create(ids, new Shape(b, n));
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                ForwardContext ctx = vlm.withVisualInputs(tokens, ForwardContext.TRAINING);
                NDArray logits = vlm.captionLogits(vlm.encode(x, null, ctx));
                NDArray loss = logits.logSoftmax(-1).get(":, :, 0").mean().neg();
                gc.backward(loss);
            }
            optimizer.clipGradNorm(1.0);
            optimizer.step(1e-3);
            return null;
        }, steps, warmup);
        out.put("method", recipe.method().cliName);
        out.put("routing", recipe.routing().cliName);
        out.put("batch_size", b);
        out.put("seq_len", n);
        out.put("trainable_params", trainable.values().stream().mapToLong(Module::numel).sum());
        out.put("median_s", t[0]);
        out.put("min_s", t[1]);
        out.put("p90_s", t[2]);
    }
}
