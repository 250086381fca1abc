package org.peft4j.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import me.tongfei.progressbar.ProgressBar;
import org.peft4j.data.ImageTransform;
import org.peft4j.data.RawImage;
import org.peft4j.data.SeededShuffle;
import org.peft4j.data.vl.CaptionSample;
import org.peft4j.data.vl.SortOfClevr;
import org.peft4j.data.vl.VqaSample;
import org.peft4j.eval.CaptionMetrics;
import org.peft4j.eval.VqaAccuracy;
import org.peft4j.models.text.Generator;
import org.peft4j.models.text.TextConfig;
import org.peft4j.models.text.TextTokenizer;
import org.peft4j.models.vit.VitConfig;
import org.peft4j.models.vl.VisionLanguageModel;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.Module;
import org.peft4j.nn.Ops;
import org.peft4j.peft.PeftModel;
import org.peft4j.tuners.TargetModules;
import org.peft4j.tuners.routing.Routing;
import org.peft4j.tuners.routing.RoutingConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.HashMap;
import java.util.function.IntFunction;

/**
 * {@code train --task vqa|caption}: a frozen ViT and language model joined by
 * {@link VisionLanguageModel}, one vision-language tuner (routed LoRA or adapters, or
 * cross-attention) trained, the test split scored, the adapter saved.
 *
 * <p>VQA is classification over the answers seen in training, with BCE on VQAv2's soft targets
 * (min(1, count/3) per answer) summed over answers; scored with the VQAv2 accuracy, per question
 * type. Captioning is next-token cross-entropy on {@code [BOS] caption [EOS]} after the visual
 * prefix; scored with BLEU-1..4 and CIDEr-D of greedy and beam-search captions.
 *
 * <p>The ViT is frozen, so every image's tokens are computed once before training.
 */
public final class VlFineTuning {

    private static final Logger LOG = LoggerFactory.getLogger(VlFineTuning.class);
    /** Longest caption generated at evaluation (tokens, EOS included). */
    public static final int MAX_CAPTION_TOKENS = 20;

    private VlFineTuning() {}

    /** The method and recipe of one run. */
    public record Recipe(String task, RoutingConfig.Method method, Routing routing, int rank, double alpha, int bottleneck,
                         int epochs, int batchSize, double lr, double weightDecay, double warmup, double maxGradNorm,
                         long seed, int beams) {
        public Recipe {
            if (!task.equals("vqa") && !task.equals("caption")) {
                throw new IllegalArgumentException("task must be vqa or caption, got '" + task + "'");
            }
            if (epochs < 1 || batchSize < 1 || lr <= 0 || beams < 1) {
                throw new IllegalArgumentException("epochs, batch size, learning rate and beams must be positive");
            }
        }

        /**
         * The paper's recipe scaled to the small models here: r = α = 8 (the paper's r/d of 1/8 at
         * width 64), adapters m = 8, AdamW lr 2e-3 with 10% warm-up and cosine decay, 8 epochs, batch 32.
         */
        public static Recipe defaults(String task, RoutingConfig.Method method, Routing routing) {
            return new Recipe(task, method, routing, 8, 8, 8, 8, 32, 2e-3, 0.01, 0.1, 1.0, 42, 3);
        }
    }

    /** Results of a run: the metrics, parameter counts and time. */
    public record Outcome(Map<String, Object> metrics, long trainableParams, long allParams, double seconds,
                          List<Map<String, Object>> examples) {
        public Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>(metrics);
            m.put("trainable_params", trainableParams);
            m.put("all_params", allParams);
            m.put("trainable_percent", allParams == 0 ? 0 : 100.0 * trainableParams / allParams);
            m.put("seconds", seconds);
            return m;
        }
    }

    /** The tuner config of {@code recipe} for this language model. */
    public static RoutingConfig tunerConfig(Recipe recipe, TextConfig text) {
        List<String> toSave = recipe.task().equals("vqa")
                ? List.of(VisionLanguageModel.POOLER, VisionLanguageModel.ANSWER_HEAD)
                : List.of(VisionLanguageModel.POOLER, VisionLanguageModel.CAPTION_BIAS);
        boolean gpt2 = text.type() == TextConfig.Type.GPT2;
        TargetModules targets = gpt2 ? TargetModules.regex("text\\..*\\.attn\\.c_attn")
                : TargetModules.regex("text\\..*\\.attention\\.self\\.(query|value)");
        return new RoutingConfig(recipe.method(), recipe.routing(), recipe.rank(), recipe.alpha(), 0.0,
                recipe.method() == RoutingConfig.Method.LORA ? targets : null,
                recipe.method() == RoutingConfig.Method.LORA && gpt2 ? List.of(true, false, true) : null,
                recipe.bottleneck(), "relu", toSave);
    }

    /** What a caption must not contain for this model: its start, padding and unknown-word tokens. */
    public static long[] suppressedTokens(TextConfig config, TextTokenizer tok) {
        return Specials.of(config, tok).suppressed();
    }

    /** Special token ids: the config's, else the tokenizer's usual names. */
    record Specials(long bos, long eos, long pad, long unk) {
        /** What a generated caption must not contain: padding, start and unknown-word tokens. */
        long[] suppressed() {
            return java.util.stream.LongStream.of(bos, pad, unk).filter(id -> id >= 0 && id != eos).distinct().toArray();
        }

        static Specials of(TextConfig c, TextTokenizer tok) {
            long bos = c.bosTokenId() >= 0 ? c.bosTokenId() : first(tok, "[BOS]", "[CLS]", "<s>", "<|endoftext|>");
            long eos = c.eosTokenId() >= 0 ? c.eosTokenId() : first(tok, "[EOS]", "[SEP]", "</s>", "<|endoftext|>");
            long pad = c.padTokenId() >= 0 ? c.padTokenId() : Math.max(0, first(tok, "[PAD]", "<pad>"));
            if (bos < 0 || eos < 0) {
                throw new IllegalArgumentException("the text model has no bos/eos token (config.json bos_token_id/eos_token_id, "
                        + "or [BOS]/[CLS]/<s> and [EOS]/[SEP]/</s> in tokenizer.json)");
            }
            return new Specials(bos, eos, pad, first(tok, "[UNK]", "<unk>"));
        }

        private static long first(TextTokenizer tok, String... names) {
            for (String n : names) {
                long id = tok.idOf(n);
                if (id >= 0) {
                    return id;
                }
            }
            return -1;
        }
    }

    /**
     * Trains and scores one run; writes the adapter (PEFT layout), metrics.jsonl and examples into
     * {@code outDir}.
     */
    public static Outcome run(VisionLanguageModel vlm, TextTokenizer tok, List<?> train, List<?> test, Recipe recipe,
                              Path outDir, NDManager manager, boolean progress) throws IOException {
        long t0 = System.nanoTime();
        boolean vqa = recipe.task().equals("vqa");
        TextConfig tc = vlm.text().config();
        Specials sp = Specials.of(tc, tok);
        Engine.getInstance().setRandomSeed((int) recipe.seed());
        PeftModel peft = new PeftModel(vlm, null, manager);
        RoutingConfig tuner = tunerConfig(recipe, tc);
        peft.addAdapter(PeftModel.DEFAULT_ADAPTER, tuner);
        Map<String, Parameter> trainable = peft.trainableParameters();
        long trainableCount = trainable.values().stream().mapToLong(Module::numel).sum();
        LOG.info(peft.counts().summary());
        Files.createDirectories(outDir);
        Path metricsFile = outDir.resolve("metrics.jsonl");
        Files.deleteIfExists(metricsFile);
        MetricsLog metrics = new MetricsLog(metricsFile);

        Encoded trainSet = encode(vlm, tok, sp, train, vqa, null, manager);
        Encoded testSet = encode(vlm, tok, sp, test, vqa, trainSet.answers, manager);
        int n = trainSet.rows.size();
        int batches = (n + recipe.batchSize() - 1) / recipe.batchSize();
        long total = (long) batches * recipe.epochs();
        LearningRateSchedule schedule = new LearningRateSchedule(recipe.lr(), Math.round(recipe.warmup() * total), total, 0.0);
        double trainSeconds = 0;
        try (AdamW optimizer = new AdamW(trainable, recipe.weightDecay(), manager)) {
            for (int epoch = 0; epoch < recipe.epochs(); epoch++) {
                Engine.getInstance().setRandomSeed((int) (recipe.seed() * 1_000 + epoch));
                long e0 = System.nanoTime();
                int[] order = new int[n];
                for (int i = 0; i < n; i++) {
                    order[i] = i;
                }
                SeededShuffle.shuffle(order, SeededShuffle.mix(recipe.seed(), epoch));
                double sum = 0;
                try (ProgressBar bar = progress ? Progress.bar(recipe.task() + " epoch " + (epoch + 1) + "/" + recipe.epochs(), batches) : null) {
                    for (int k = 0; k < batches; k++) {
                        List<Row> batch = new ArrayList<>();
                        for (int j = k * recipe.batchSize(); j < Math.min(n, (k + 1) * recipe.batchSize()); j++) {
                            batch.add(trainSet.rows.get(order[j]));
                        }
                        double loss = step(vlm, trainSet, batch, vqa, sp, manager);
                        long step = optimizer.stepCount();
                        double norm = optimizer.clipGradNorm(recipe.maxGradNorm());
                        double lr = schedule.at(step);
                        optimizer.step(lr);
                        sum += loss * batch.size();
                        if ((step + 1) % 20 == 0) {
                            metrics.write(Map.of("type", "train", "epoch", epoch + 1, "step", step + 1, "loss", loss, "lr", lr,
                                    "grad_norm", norm));
                        }
                        if (bar != null) {
                            bar.setExtraMessage(String.format(Locale.ROOT, " loss %.4f", loss));
                            bar.step();
                        }
                    }
                }
                double seconds = (System.nanoTime() - e0) / 1e9;
                trainSeconds += seconds;
                LOG.info(String.format(Locale.ROOT, "epoch %d: train loss %.4f, %.1f samples/s", epoch + 1, sum / n, n / seconds));
                metrics.write(Map.of("type", "epoch", "epoch", epoch + 1, "train_loss", sum / n, "samples_per_s", n / seconds,
                        "seconds", seconds));
            }
        }
        List<Map<String, Object>> examples = new ArrayList<>();
        Map<String, Object> scores = vqa ? evaluateVqa(vlm, testSet, sp, recipe.batchSize(), examples, manager)
                : evaluateCaptions(vlm, tok, testSet, sp, recipe.batchSize(), recipe.beams(), examples, manager);
        writeExampleImages(examples, outDir);
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("task", recipe.task());
        result.put("method", recipe.method().cliName);
        result.put("routing", recipe.routing().cliName);
        result.putAll(scores);
        result.put("train_seconds", trainSeconds);
        result.put("samples_per_s", trainSeconds > 0 ? n * recipe.epochs() / trainSeconds : 0);
        result.put("visual_projection", vlm.projects());
        metrics.write(Map.of("type", "test", "scores", scores));
        peft.save(outDir, PeftModel.DEFAULT_ADAPTER);
        org.peft4j.io.AtomicFiles.writeString(outDir.resolve("examples.json"),
                org.peft4j.io.Json.toPythonStyle(examples) + "\n");
        if (vqa) {
            org.peft4j.io.AtomicFiles.writeString(outDir.resolve("answers.json"),
                    org.peft4j.io.Json.toPythonStyle(trainSet.answers) + "\n");
        }
        return new Outcome(result, trainableCount, peft.counts().all(), (System.nanoTime() - t0) / 1e9, examples);
    }

    /** The VQA answer vocabulary: every normalised answer of the training samples, sorted. */
    public static List<String> answerVocabulary(List<?> train) {
        TreeMap<String, Integer> seen = new TreeMap<>();
        for (Object o : train) {
            for (String a : ((VqaSample) o).answers()) {
                seen.merge(VqaAccuracy.normalize(a), 1, Integer::sum);
            }
        }
        return new ArrayList<>(seen.keySet());
    }

    /** Each example's image as examples/N.png (for the suite's report), its file name put in the example. */
    private static void writeExampleImages(List<Map<String, Object>> examples, Path outDir) throws IOException {
        Path dir = Files.createDirectories(outDir.resolve("examples"));
        for (int i = 0; i < examples.size(); i++) {
            RawImage img = (RawImage) examples.get(i).remove("raw");
            if (img == null) {
                continue;
            }
            java.awt.image.BufferedImage out = new java.awt.image.BufferedImage(img.width(), img.height(),
                    java.awt.image.BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < img.height(); y++) {
                for (int x = 0; x < img.width(); x++) {
                    int r = img.get(x, y, 0);
                    int g = img.channels() >= 3 ? img.get(x, y, 1) : r;
                    int b = img.channels() >= 3 ? img.get(x, y, 2) : r;
                    out.setRGB(x, y, (r << 16) | (g << 8) | b);
                }
            }
            String name = "examples/" + i + ".png";
            org.peft4j.io.AtomicFiles.write(outDir.resolve(name), o -> javax.imageio.ImageIO.write(out, "png", o));
            examples.get(i).put("picture", name);
        }
    }

    /** One training example: an image (index into the tokens), ids, and targets (VQA soft scores or none). */
    record Row(int image, long[] ids, float[] target, Object sample) {}

    /** A split with the frozen ViT's tokens of its distinct images, and the VQA answer vocabulary. */
    record Encoded(NDArray tokens, List<Row> rows, List<String> answers, List<RawImage> images) {}

    private static Encoded encode(VisionLanguageModel vlm, TextTokenizer tok, Specials sp, List<?> samples, boolean vqa,
                                  List<String> answers, NDManager manager) {
        if (samples.isEmpty()) {
            throw new IllegalArgumentException("no samples");
        }
        Map<RawImage, Integer> imageIndex = new IdentityHashMap<>();
        List<RawImage> images = new ArrayList<>();
        List<String> vocabulary = answers;
        if (vqa && vocabulary == null) {
            vocabulary = answerVocabulary(samples);
        }
        Map<String, Integer> answerIndex = new LinkedHashMap<>();
        if (vqa) {
            for (int i = 0; i < vocabulary.size(); i++) {
                answerIndex.put(vocabulary.get(i), i);
            }
        }
        int context = vlm.text().config().contextLength() - 1; // the visual prefix takes a position
        List<Row> rows = new ArrayList<>();
        for (Object o : samples) {
            RawImage img = o instanceof VqaSample v ? v.image() : ((CaptionSample) o).image();
            int index = imageIndex.computeIfAbsent(img, k -> {
                images.add(k);
                return images.size() - 1;
            });
            if (o instanceof VqaSample v) {
                long[] q = withSpecials(tok.encode(v.question()), sp, context, v.question());
                rows.add(new Row(index, q, VqaAccuracy.softTargets(v.answers(), answerIndex), v));
            } else {
                CaptionSample c = (CaptionSample) o;
                for (String caption : c.captions()) {
                    rows.add(new Row(index, withSpecials(tok.encode(caption), sp, context, caption), null, c));
                }
            }
        }
        NDArray tokens = visualTokens(vlm, images, manager);
        return new Encoded(tokens, rows, vocabulary, images);
    }

    private static long[] withSpecials(long[] words, Specials sp, int context, String text) {
        if (words.length + 2 > context) {
            throw new IllegalArgumentException("'" + text + "' is " + words.length + " tokens; with BOS, EOS and the visual prefix "
                    + "it exceeds the text model's context (" + (context + 1) + ")");
        }
        long[] out = new long[words.length + 2];
        out[0] = sp.bos;
        System.arraycopy(words, 0, out, 1, words.length);
        out[out.length - 1] = sp.eos;
        return out;
    }

    /**
     * Whether the ViT takes {@code img}: a gray ViT reads any image (colour by luminance), an RGB one
     * any image too (gray replicated, alpha dropped); other channel counts must match.
     */
    public static boolean fits(RawImage img, VitConfig c) {
        return c.numChannels() == 1 || c.numChannels() == 3 || img.channels() == c.numChannels();
    }

    /** The frozen ViT's tokens of every image, {@code [images, T, d_v]}, in batches of 64. */
    static NDArray visualTokens(VisionLanguageModel vlm, List<RawImage> images, NDManager manager) {
        VitConfig c = vlm.vision().config();
        ImageTransform transform = new ImageTransform(c.imageSize(), c.numChannels(), c.imageMean(), c.imageStd());
        NDList parts = new NDList();
        for (int start = 0; start < images.size(); start += 64) {
            int end = Math.min(images.size(), start + 64);
            float[] pixels = new float[(end - start) * transform.floatsPerImage()];
            for (int i = start; i < end; i++) {
                RawImage img = images.get(i);
                if (!fits(img, c)) {
                    throw new IllegalArgumentException("an image with " + img.channels() + " channels for a ViT of " + c.numChannels());
                }
                transform.apply(img, pixels, (i - start) * transform.floatsPerImage());
            }
            try (NDScope scope = new NDScope()) {
                NDArray x = manager.create(pixels, new Shape(end - start, c.numChannels(), c.imageSize(), c.imageSize()));
                NDArray t = vlm.visualTokens(x);
                NDScope.unregister(t);
                parts.add(t);
            }
        }
        NDArray all = parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts, 0);
        all.attach(manager);
        return all;
    }

    /** Padded ids {@code [B, N]} and their 0/1 mask. */
    private static NDList pad(List<Row> batch, long padId, NDManager m) {
        int len = batch.stream().mapToInt(r -> r.ids.length).max().orElse(1);
        long[] ids = new long[batch.size() * len];
        long[] mask = new long[batch.size() * len];
        java.util.Arrays.fill(ids, padId);
        for (int i = 0; i < batch.size(); i++) {
            long[] r = batch.get(i).ids;
            System.arraycopy(r, 0, ids, i * len, r.length);
            java.util.Arrays.fill(mask, i * len, i * len + r.length, 1);
        }
        return new NDList(m.create(ids, new Shape(batch.size(), len)), m.create(mask, new Shape(batch.size(), len)));
    }

    private static NDArray imagesOf(Encoded set, List<Row> batch, NDManager m) {
        long[] index = batch.stream().mapToLong(r -> r.image).toArray();
        return set.tokens.get(m.create(index));
    }

    /** Forward, loss and backward of one batch; returns the loss. */
    private static double step(VisionLanguageModel vlm, Encoded set, List<Row> batch, boolean vqa, Specials sp, NDManager manager) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDList padded = pad(batch, sp.pad, manager);
            NDArray ids = padded.get(0);
            NDArray mask = padded.get(1);
            NDArray tokens = imagesOf(set, batch, manager);
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                ForwardContext ctx = vlm.withVisualInputs(tokens, ForwardContext.TRAINING);
                NDArray hidden = vlm.encode(ids, mask, ctx);
                NDArray loss;
                if (vqa) {
                    int answers = batch.get(0).target.length;
                    float[] t = new float[batch.size() * answers];
                    for (int i = 0; i < batch.size(); i++) {
                        System.arraycopy(batch.get(i).target, 0, t, i * answers, answers);
                    }
                    loss = softBce(vlm.answerLogits(hidden, mask, ctx), manager.create(t, new Shape(batch.size(), answers)));
                } else {
                    long n = ids.getShape().get(1);
                    loss = tokenCrossEntropy(vlm.captionLogits(hidden), ids.get(":, 1:"), mask.get(":, 1:"));
                    if (n < 2) {
                        throw new IllegalStateException("a caption needs at least BOS and EOS");
                    }
                }
                double value = loss.getFloat();
                if (!Double.isFinite(value)) {
                    throw new IllegalStateException("training diverged: loss is not finite (lower the learning rate)");
                }
                collector.backward(loss);
                return value;
            }
        }
    }

    /** VQAv2's loss: BCE with logits on soft targets, summed over answers, mean over the batch. */
    static NDArray softBce(NDArray logits, NDArray targets) {
        NDArray softplus = Activation.relu(logits).add(logits.abs().neg().exp().add(1f).log());
        NDArray perAnswer = softplus.sub(logits.mul(targets));
        return Ops.scale(perAnswer.sum(), 1f / logits.getShape().get(0));
    }

    /**
     * Mean cross-entropy of {@code logits [B, N, V]} against {@code targets [B, N]} over the real
     * tokens of {@code mask}; the target's log-probability is gathered, not picked by a one-hot
     * {@code [B, N, V]} (see {@link LanguageModelPretraining#tokenCrossEntropy}).
     */
    static NDArray tokenCrossEntropy(NDArray logits, NDArray targets, NDArray mask) {
        // the index is kept for the backward pass: a copy in native memory (DJL-NOTES)
        NDArray index = targets.toType(DataType.INT64, true).expandDims(2);
        NDArray nll = LanguageModelPretraining.tokenNll(logits, index).squeeze(2); // [B, N]
        NDArray keep = mask.toType(DataType.FLOAT32, false);
        return nll.mul(keep).sum().div(keep.sum());
    }

    private static Map<String, Object> evaluateVqa(VisionLanguageModel vlm, Encoded set, Specials sp, int batchSize,
                                                   List<Map<String, Object>> examples, NDManager manager) {
        VqaAccuracy accuracy = new VqaAccuracy();
        VqaAccuracy relational = new VqaAccuracy();
        for (int start = 0; start < set.rows.size(); start += batchSize) {
            List<Row> batch = set.rows.subList(start, Math.min(set.rows.size(), start + batchSize));
            int[] best;
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                NDList padded = pad(batch, sp.pad, manager);
                ForwardContext ctx = vlm.withVisualInputs(imagesOf(set, batch, manager), ForwardContext.INFERENCE);
                NDArray hidden = vlm.encode(padded.get(0), padded.get(1), ctx);
                best = vlm.answerLogits(hidden, padded.get(1), ctx).argMax(1).toType(DataType.INT32, false).toIntArray();
            }
            for (int i = 0; i < batch.size(); i++) {
                VqaSample s = (VqaSample) batch.get(i).sample;
                String answer = set.answers.get(best[i]);
                accuracy.add(answer, s.answers(), s.questionType());
                relational.add(answer, s.answers(), SortOfClevr.isRelational(s.questionType()) ? "relational" : "non-relational");
                if (examples.size() < 12) {
                    Map<String, Object> e = new LinkedHashMap<>();
                    e.put("image", s.imageName());
                    e.put("raw", s.image());
                    e.put("question", s.question());
                    e.put("prediction", answer);
                    e.put("answers", s.answers());
                    examples.add(e);
                }
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("vqa_accuracy", accuracy.mean());
        m.put("by_type", accuracy.groupMeans());
        m.put("by_kind", relational.groupMeans());
        m.put("n_test", accuracy.count());
        return m;
    }

    private static Map<String, Object> evaluateCaptions(VisionLanguageModel vlm, TextTokenizer tok, Encoded set, Specials sp,
                                                        int batchSize, int beams, List<Map<String, Object>> examples,
                                                        NDManager manager) {
        int images = set.images.size();
        List<List<String>> references = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < images; i++) {
            references.add(null);
            names.add(null);
        }
        for (Row r : set.rows) {
            references.set(r.image, ((CaptionSample) r.sample).captions());
            names.set(r.image, ((CaptionSample) r.sample).imageName());
        }
        List<String> greedy = new ArrayList<>();
        List<String> beam = new ArrayList<>();
        int maxNew = Math.min(MAX_CAPTION_TOKENS, vlm.text().config().contextLength() - 2);
        for (int start = 0; start < images; start += batchSize) {
            int end = Math.min(images, start + batchSize);
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                NDArray tokens = set.tokens.get(start + ":" + end);
                ForwardContext ctx = vlm.withVisualInputs(tokens, ForwardContext.INFERENCE);
                NDArray prefix = ctx.get(org.peft4j.nn.VisualInputs.FEATURE);
                long[][] prompts = new long[end - start][];
                for (int i = 0; i < prompts.length; i++) {
                    prompts[i] = new long[] {sp.bos};
                }
                for (long[] ids : Generator.greedy(vlm.captioner(), prefix, prompts, maxNew, (int) sp.eos, true, b -> ctx, manager,
                        sp.suppressed())) {
                    greedy.add(text(tok, ids, sp));
                }
                if (beams > 1) {
                    for (int i = 0; i < end - start; i++) {
                        IntFunction<ForwardContext> contexts = contextsPerRows(vlm, tokens.get(i + ":" + (i + 1)));
                        Generator.Output o = Generator.beam(vlm.captioner(), contexts.apply(1).get(org.peft4j.nn.VisualInputs.FEATURE),
                                new long[] {sp.bos}, maxNew, beams, (int) sp.eos, contexts, manager, sp.suppressed());
                        beam.add(text(tok, o.ids(), sp));
                    }
                }
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        CaptionMetrics.Scores g = CaptionMetrics.score(greedy, references);
        m.put("greedy", g.toMap());
        m.put("bleu4", g.bleu()[3]);
        m.put("cider", g.cider());
        if (beams > 1) {
            CaptionMetrics.Scores b = CaptionMetrics.score(beam, references);
            m.put("beam", b.toMap());
            m.put("beams", beams);
            m.put("bleu4", b.bleu()[3]);
            m.put("cider", b.cider());
        }
        m.put("n_test_images", images);
        for (int i = 0; i < Math.min(12, images); i++) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("image", names.get(i));
            e.put("raw", set.images.get(i));
            e.put("greedy", greedy.get(i));
            if (beams > 1) {
                e.put("beam", beam.get(i));
            }
            e.put("references", references.get(i));
            examples.add(e);
        }
        return m;
    }

    /**
     * The visual inputs of one image's tokens {@code [1, T, d_v]} repeated for k rows (beam search asks
     * for 1, then for the beam width at every step): each k is pooled once, not once per step.
     */
    private static IntFunction<ForwardContext> contextsPerRows(VisionLanguageModel vlm, NDArray tokens) {
        Map<Integer, ForwardContext> byRows = new HashMap<>();
        return k -> byRows.computeIfAbsent(k, n -> vlm.withVisualInputs(n == 1 ? tokens : tokens.repeat(0, n), ForwardContext.INFERENCE));
    }

    /** Ids generated after {@code prompt} for one image (greedy when {@code beams} is 1). */
    public static long[] generate(VisionLanguageModel vlm, RawImage image, long[] prompt, int maxNew, int beams, int eos,
                                  boolean cache, NDManager manager, long[] suppress) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            IntFunction<ForwardContext> contexts = contextsPerRows(vlm, visualTokens(vlm, List.of(image), manager));
            NDArray prefix = contexts.apply(1).get(org.peft4j.nn.VisualInputs.FEATURE);
            if (beams == 1) {
                return Generator.greedy(vlm.captioner(), prefix, new long[][] {prompt}, maxNew, eos, cache, contexts, manager, suppress)
                        .get(0);
            }
            return Generator.beam(vlm.captioner(), prefix, prompt, maxNew, beams, eos, contexts, manager, suppress).ids();
        }
    }

    private static String text(TextTokenizer tok, long[] ids, Specials sp) {
        int n = ids.length;
        if (n > 0 && ids[n - 1] == sp.eos) {
            n--;
        }
        return tok.decode(java.util.Arrays.copyOf(ids, n)).trim();
    }
}
