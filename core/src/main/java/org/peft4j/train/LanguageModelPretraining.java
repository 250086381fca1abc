package org.peft4j.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import me.tongfei.progressbar.ProgressBar;
import org.peft4j.data.DataException;
import org.peft4j.data.SeededShuffle;
import org.peft4j.data.text.TextCorpus;
import org.peft4j.data.text.WordVocabulary;
import org.peft4j.data.vl.CaptionSample;
import org.peft4j.data.vl.SceneCaptions;
import org.peft4j.data.vl.Scenes;
import org.peft4j.data.vl.SortOfClevr;
import org.peft4j.data.vl.VqaSample;
import org.peft4j.demo.DatasetInstaller;
import org.peft4j.io.AtomicFiles;
import org.peft4j.io.Json;
import org.peft4j.models.text.Generator;
import org.peft4j.models.text.Gpt2Model;
import org.peft4j.models.text.KvCache;
import org.peft4j.models.text.TextCheckpoint;
import org.peft4j.models.text.TextConfig;
import org.peft4j.models.text.TextModel;
import org.peft4j.models.text.TextTokenizer;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.Ops;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The project's default text backbone, {@value #MODEL}: a small GPT-2 trained from scratch as a
 * causal language model on the English fortunes of Debian's {@code fortunes} package. Its width is
 * the default ViT's, so the vision-language model joins them without a projection; its word
 * vocabulary holds every word of the built-in VQA questions, answers and captions, so those tasks
 * never see {@code [UNK]}. It is pretrained once per machine and cached as an ordinary Hugging Face
 * model folder ({@code config.json}, {@code model.safetensors}, {@code tokenizer.json},
 * {@code pretraining.json} with the recipe and its held-out perplexity).
 *
 * <p>Training is nanoGPT's: every training fortune as {@code [BOS] words [EOS]}, all concatenated
 * into one stream cut into windows of the context length; each step predicts every next token of a
 * batch of windows. AdamW with warm-up and cosine decay, weight decay on matrices only, global-norm
 * clipping.
 */
public final class LanguageModelPretraining {

    /** The name the CLI accepts for it. */
    public static final String MODEL = "gpt2-fortunes";
    /** Cache folder name; bump when the recipe changes, so a stale model is not reused. */
    public static final String CACHE_NAME = "gpt2-fortunes-v1";
    public static final String RECORD = "pretraining.json";

    /** Share of the fortunes held out (whole documents, seeded) for the validation perplexity. */
    static final double VALIDATION_FRACTION = 0.05;
    static final double MAX_GRAD_NORM = 1.0;
    /** Built-in VQA samples and captioned scenes read for their words. */
    static final int VL_QUESTIONS = 3000;
    static final int VL_CAPTIONED = 1000;
    static final String SAMPLE_PROMPT = "the";
    /**
     * Windows per forward/backward pass; a batch's gradients add up over its micro-batches. It keeps
     * the vocabulary-sized tensors ({@code [windows × context, vocab]}) at 16 MB for the default
     * sizes: whole 32-window passes (65 MB tensors, above glibc's 32 MB mmap threshold, so fresh
     * pages every time) were measured about 2.4× slower per step on 2 CPU cores.
     */
    static final int MICRO_BATCH = 8;

    /**
     * The recipe.
     *
     * @param corpusDir      fortune files ({@link TextCorpus#DEFAULT_DIR} is installed when missing and allowed)
     * @param minFrequency   corpus words seen fewer times are {@code [UNK]} (the VL words are always in)
     * @param maxVocabulary  most corpus tokens kept, specials included, before the VL words are added
     * @param context        window length, and the model's {@code n_positions}
     * @param steps          optimizer steps of {@code batchSize} windows each
     * @param evaluations    validation passes besides the one before training, evenly spaced
     */
    public record Recipe(Path corpusDir, int minFrequency, int maxVocabulary, int width, int layers, int heads, int context,
                         int batchSize, int steps, int warmupSteps, double learningRate, double weightDecay,
                         int evaluations, long seed) {

        /**
         * About 8 minutes on 2 CPU cores (measured: 499 s with other jobs on the machine, ~4300
         * tokens/s, 2M tokens ≈ 3.7 passes; validation perplexity 122 with [UNK] counted).
         */
        public static final Recipe DEFAULT = new Recipe(TextCorpus.DEFAULT_DIR, 3, 8000, 64, 4, 4, 64,
                32, 1000, 50, 3e-3, 0.01, 4, 7);

        public Recipe {
            if (minFrequency < 1 || width <= 0 || layers <= 0 || heads <= 0 || context < 4 || batchSize <= 0 || steps <= 0
                    || evaluations < 1) {
                throw new IllegalArgumentException(String.format(Locale.ROOT, "recipe sizes must be positive (context at least 4): "
                        + "min frequency %d, width %d, layers %d, heads %d, context %d, batch %d, steps %d, evaluations %d",
                        minFrequency, width, layers, heads, context, batchSize, steps, evaluations));
            }
            if (width % heads != 0) {
                throw new IllegalArgumentException("width " + width + " is not a multiple of heads " + heads);
            }
            if (warmupSteps < 0 || warmupSteps > steps) {
                throw new IllegalArgumentException("need 0 <= warm-up steps (" + warmupSteps + ") <= steps (" + steps + ")");
            }
        }

        public Recipe withCorpusDir(Path dir) {
            return new Recipe(dir, minFrequency, maxVocabulary, width, layers, heads, context, batchSize, steps, warmupSteps,
                    learningRate, weightDecay, evaluations, seed);
        }
    }

    private static final Logger LOG = LoggerFactory.getLogger(LanguageModelPretraining.class);

    private LanguageModelPretraining() {}

    /** The cached model's folder, pretrained first (with {@code recipe}) when the cache has none. */
    public static Path ensure(Path cacheRoot, Recipe recipe, boolean progress) throws IOException {
        Path dir = cacheRoot.resolve(CACHE_NAME);
        if (cached(dir)) {
            return dir;
        }
        long t0 = System.nanoTime();
        TextCorpus corpus = corpus(recipe.corpusDir());
        LOG.info("pretraining the default text model on {} fortunes from {} ({} steps; cached in {} for later runs)",
                corpus.documents().size(), corpus.source(), recipe.steps(), dir);
        TextCorpus.Split split;
        try {
            split = corpus.split(VALIDATION_FRACTION, recipe.seed());
        } catch (DataException e) {
            throw new IOException(e.getMessage(), e);
        }
        List<List<String>> trainWords = split.train().stream().map(TextCorpus::words).toList();
        List<List<String>> validationWords = split.validation().stream().map(TextCorpus::words).toList();
        WordVocabulary corpusVocabulary = WordVocabulary.build(trainWords, recipe.minFrequency(), recipe.maxVocabulary());
        Set<String> vlWords = visionLanguageWords(recipe.seed());
        WordVocabulary vocabulary = corpusVocabulary.withWords(vlWords);
        int[] train = stream(trainWords, vocabulary);
        int[] validation = stream(validationWords, vocabulary);
        TextConfig config = TextConfig.gpt2(vocabulary.size(), recipe.width(), recipe.layers(), recipe.heads(), recipe.context())
                .withSpecialTokens(WordVocabulary.PAD_ID, WordVocabulary.BOS_ID, WordVocabulary.EOS_ID);

        Map<String, Object> record = new LinkedHashMap<>();
        try (NDManager manager = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed((int) recipe.seed());
            Gpt2Model model = new Gpt2Model(config);
            model.initialize(manager);
            model.setTrainable(true);
            Fit fit = fit(model, recipe, windows(train, recipe.context(), "training"),
                    windows(validation, recipe.context(), "validation"), progress, manager);
            String sample = continuation(model, vocabulary, SAMPLE_PROMPT, Math.min(24, recipe.context() - 2), manager);

            record.put("model", MODEL);
            record.put("architecture", "gpt2");
            record.put("corpus", corpus.source());
            record.put("documents_train", split.train().size());
            record.put("documents_validation", split.validation().size());
            record.put("tokens_train", train.length);
            record.put("tokens_validation", validation.length);
            record.put("vocab_size", vocabulary.size());
            record.put("vocab_corpus", corpusVocabulary.size());
            record.put("vocab_vision_language_added", vocabulary.size() - corpusVocabulary.size());
            record.put("unk_rate_train", unkRate(train));
            record.put("unk_rate_validation", unkRate(validation));
            record.put("min_frequency", recipe.minFrequency());
            record.put("max_vocabulary", recipe.maxVocabulary());
            record.put("width", recipe.width());
            record.put("layers", recipe.layers());
            record.put("heads", recipe.heads());
            record.put("context", recipe.context());
            record.put("parameters", model.namedParameters().values().stream().mapToLong(p -> p.getArray().size()).sum());
            record.put("batch_size", recipe.batchSize());
            record.put("steps", recipe.steps());
            record.put("warmup_steps", recipe.warmupSteps());
            record.put("learning_rate", recipe.learningRate());
            record.put("weight_decay", recipe.weightDecay());
            record.put("max_grad_norm", MAX_GRAD_NORM);
            record.put("validation_fraction", VALIDATION_FRACTION);
            record.put("seed", recipe.seed());
            record.put("initial_validation_loss", fit.validation().get(0)[1]);
            record.put("final_train_loss", fit.finalTrainLoss());
            record.put("final_validation_loss", fit.validation().get(fit.validation().size() - 1)[1]);
            record.put("validation_perplexity", Math.exp(fit.validation().get(fit.validation().size() - 1)[1]));
            record.put("validation_curve", fit.validation().stream().map(v -> List.of((long) v[0], v[1])).toList());
            record.put("tokens_per_second", fit.tokensPerSecond());
            record.put("train_seconds", fit.trainSeconds());
            record.put("sample_prompt", SAMPLE_PROMPT);
            record.put("sample_greedy_no_unk", sample);
            record.put("seconds", (System.nanoTime() - t0) / 1e9);
            AtomicFiles.replaceDirectory(dir, tmp -> {
                TextCheckpoint.save(model, config, tmp, Map.of());
                vocabulary.writeTokenizerJson(tmp.resolve(TextTokenizer.FILE));
                Files.writeString(tmp.resolve(RECORD), Json.toPythonStyle(record) + "\n");
            });
        }
        LOG.info(String.format(Locale.ROOT, "default text model pretrained: validation perplexity %.2f, %.0f tokens/s, %.0f s; "
                        + "greedy after '%s': %s", (double) record.get("validation_perplexity"),
                (double) record.get("tokens_per_second"), (double) record.get("seconds"), SAMPLE_PROMPT, record.get("sample_greedy_no_unk")));
        return dir;
    }

    private static boolean cached(Path dir) {
        return Files.isRegularFile(dir.resolve(RECORD)) && Files.isRegularFile(dir.resolve(TextCheckpoint.WEIGHTS_FILE))
                && Files.isRegularFile(dir.resolve("config.json")) && Files.isRegularFile(dir.resolve(TextTokenizer.FILE));
    }

    /** The fortunes, the Debian package installed first when the default folder lacks it and we may. */
    private static TextCorpus corpus(Path dir) throws IOException {
        if (dir.equals(TextCorpus.DEFAULT_DIR)) {
            try {
                DatasetInstaller.ensure(DatasetInstaller.FORTUNES, dir);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while installing fortunes");
            }
        }
        try {
            return TextCorpus.load(dir);
        } catch (DataException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /**
     * Every word of the built-in vision-language tasks, split as the tokenizer splits: the questions
     * and annotator answers of {@value #VL_QUESTIONS} Sort-of-CLEVR samples (every type, every
     * colour as subject), every answer class, and the captions of {@value #VL_CAPTIONED} scenes
     * (every template, relation and object).
     */
    static Set<String> visionLanguageWords(long seed) {
        Set<String> words = new TreeSet<>();
        for (VqaSample s : SortOfClevr.generate(VL_QUESTIONS, seed, Scenes.DEFAULT_SIZE)) {
            words.addAll(TextCorpus.words(s.question()));
            s.answers().forEach(a -> words.addAll(TextCorpus.words(a)));
        }
        SortOfClevr.ANSWERS.forEach(a -> words.addAll(TextCorpus.words(a)));
        for (CaptionSample s : SceneCaptions.generate(VL_CAPTIONED, seed, Scenes.DEFAULT_SIZE)) {
            s.captions().forEach(c -> words.addAll(TextCorpus.words(c)));
        }
        return words;
    }

    /** {@code [BOS] words [EOS]} of every document, concatenated. */
    static int[] stream(List<List<String>> documents, WordVocabulary vocabulary) {
        int n = documents.stream().mapToInt(d -> d.size() + 2).sum();
        int[] out = new int[n];
        int i = 0;
        for (List<String> doc : documents) {
            out[i++] = WordVocabulary.BOS_ID;
            for (String w : doc) {
                out[i++] = vocabulary.id(w);
            }
            out[i++] = WordVocabulary.EOS_ID;
        }
        return out;
    }

    /**
     * Consecutive windows of {@code context + 1} tokens (inputs and their next tokens) starting every
     * {@code context} tokens; a stream shorter than that gives one shorter window.
     */
    static int[][] windows(int[] stream, int context, String what) throws IOException {
        if (stream.length < 2) {
            throw new IOException("the " + what + " fortunes hold " + stream.length + " token(s); a language model needs at least 2");
        }
        int length = Math.min(context, stream.length - 1);
        int count = (stream.length - 1) / length;
        int[][] out = new int[count][];
        for (int i = 0; i < count; i++) {
            out[i] = Arrays.copyOfRange(stream, i * length, i * length + length + 1);
        }
        return out;
    }

    private static double unkRate(int[] stream) {
        return Arrays.stream(stream).filter(t -> t == WordVocabulary.UNK_ID).count() / (double) stream.length;
    }

    /** Validation losses as {step, loss}, the mean training loss of the last tenth of the steps, throughput. */
    private record Fit(List<double[]> validation, double finalTrainLoss, double tokensPerSecond, double trainSeconds) {}

    private static Fit fit(Gpt2Model model, Recipe recipe, int[][] train, int[][] validation, boolean progress,
                           NDManager manager) {
        LearningRateSchedule schedule = new LearningRateSchedule(recipe.learningRate(), recipe.warmupSteps(), recipe.steps(), 0.0);
        int every = Math.max(1, recipe.steps() / recipe.evaluations());
        List<double[]> curve = new ArrayList<>();
        curve.add(new double[] {0, validationLoss(model, validation, manager)});
        LOG.info(String.format(Locale.ROOT, "validation loss before training %.4f (perplexity %.1f)", curve.get(0)[1],
                Math.exp(curve.get(0)[1])));
        int[] order = new int[train.length];
        int epoch = -1;
        int cursor = train.length;
        double tailLoss = 0;
        int tailSteps = 0;
        long tokens = 0;
        double trainSeconds = 0;
        try (AdamW optimizer = new AdamW(model.namedParameters(), recipe.weightDecay(), manager);
             ProgressBar bar = progress ? Progress.bar("pretraining " + MODEL, recipe.steps()) : null) {
            for (int step = 0; step < recipe.steps(); step++) {
                long s0 = System.nanoTime();
                int b = Math.min(recipe.batchSize(), train.length);
                if (cursor + b > train.length) { // a new pass over the windows, in a new seeded order
                    epoch++;
                    cursor = 0;
                    for (int i = 0; i < order.length; i++) {
                        order[i] = i;
                    }
                    SeededShuffle.shuffle(order, SeededShuffle.mix(recipe.seed(), epoch));
                }
                int[][] batch = new int[b][];
                for (int i = 0; i < b; i++) {
                    batch[i] = train[order[cursor++]];
                }
                double loss = trainStep(model, batch, manager);
                if (!Double.isFinite(loss)) {
                    throw new IllegalStateException("pretraining diverged at step " + step + ": loss is " + loss);
                }
                optimizer.clipGradNorm(MAX_GRAD_NORM);
                optimizer.step(schedule.at(step));
                trainSeconds += (System.nanoTime() - s0) / 1e9;
                tokens += (long) b * (batch[0].length - 1);
                if (step >= recipe.steps() - Math.max(1, recipe.steps() / 10)) {
                    tailLoss += loss;
                    tailSteps++;
                }
                if (bar != null) {
                    bar.setExtraMessage(String.format(Locale.ROOT, " loss %.3f | %.0f tok/s", loss, tokens / trainSeconds));
                    bar.step();
                }
                if ((step + 1) % every == 0 || step + 1 == recipe.steps()) {
                    if (curve.get(curve.size() - 1)[0] < step + 1) {
                        double v = validationLoss(model, validation, manager);
                        curve.add(new double[] {step + 1, v});
                        LOG.info(String.format(Locale.ROOT, "step %d: train loss %.4f, validation loss %.4f (perplexity %.1f), %.0f tokens/s",
                                step + 1, loss, v, Math.exp(v), tokens / trainSeconds));
                    }
                }
            }
        }
        return new Fit(curve, tailLoss / tailSteps, tokens / trainSeconds, trainSeconds);
    }

    /**
     * Forward, next-token cross-entropy and backward of one batch of windows, {@value #MICRO_BATCH}
     * windows at a time (gradients add up across backward calls); returns the batch's mean loss.
     */
    private static double trainStep(Gpt2Model model, int[][] batch, NDManager manager) {
        double sum = 0;
        for (int start = 0; start < batch.length; start += MICRO_BATCH) {
            int[][] micro = Arrays.copyOfRange(batch, start, Math.min(batch.length, start + MICRO_BATCH));
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                    NDArray loss = loss(model, micro, ForwardContext.TRAINING, manager);
                    // Each micro-batch's share of the batch mean (scalar on the autograd path: DJL-NOTES).
                    collector.backward(Ops.scale(loss, micro.length / (float) batch.length));
                    sum += loss.getFloat() * micro.length;
                }
            }
        }
        return sum / batch.length;
    }

    /** Mean next-token cross-entropy over every token of {@code windows}, without gradients. */
    static double validationLoss(Gpt2Model model, int[][] windows, NDManager manager) {
        double sum = 0;
        long count = 0;
        for (int start = 0; start < windows.length; start += MICRO_BATCH) {
            int[][] micro = Arrays.copyOfRange(windows, start, Math.min(windows.length, start + MICRO_BATCH));
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                long tokens = (long) micro.length * (micro[0].length - 1);
                sum += loss(model, micro, ForwardContext.INFERENCE, manager).getFloat() * tokens;
                count += tokens;
            }
        }
        return sum / count;
    }

    /** Mean next-token cross-entropy of windows of {@code T + 1} tokens: inputs are the first T, targets the last T. */
    private static NDArray loss(Gpt2Model model, int[][] windows, ForwardContext ctx, NDManager manager) {
        Tokens t = tokens(windows);
        NDArray ids = manager.create(t.inputs(), new Shape(windows.length, t.length()));
        NDArray logits = model.forward(ids, ctx);
        // A native copy: autograd keeps the index for the backward pass (DJL-NOTES, EmbeddingLayer).
        NDArray targets = manager.create(t.targets(), new Shape(t.targets().length, 1)).duplicate();
        return tokenCrossEntropy(logits.reshape(t.targets().length, model.config().vocabSize()), targets);
    }

    /**
     * Mean softmax cross-entropy of {@code logits [N, V]} against {@code targets [N, 1]} (int64):
     * {@link Trainer#crossEntropy}'s value, with the target's log-probability gathered rather than
     * picked by a one-hot {@code [N, V]}, which is one more vocabulary-sized tensor each way: on
     * 2 CPU cores that made a step of this model about 1.7× slower.
     */
    static NDArray tokenCrossEntropy(NDArray logits, NDArray targets) {
        return tokenNll(logits, targets).mean();
    }

    /**
     * {@code −log p(target)} per token: {@code logits [..., V]}, {@code targets [..., 1]} (int64, a
     * native copy: autograd keeps it) → {@code [..., 1]}, gathered rather than picked by a one-hot.
     */
    static NDArray tokenNll(NDArray logits, NDArray targets) {
        int last = logits.getShape().dimension() - 1;
        return logits.logSoftmax(last).gather(targets, last).neg();
    }

    /** Inputs (row-major {@code [B, T]}) and their next tokens, from windows of {@code T + 1} tokens. */
    private record Tokens(long[] inputs, long[] targets, int length) {}

    private static Tokens tokens(int[][] windows) {
        int length = windows[0].length - 1;
        long[] inputs = new long[windows.length * length];
        long[] targets = new long[windows.length * length];
        for (int i = 0; i < windows.length; i++) {
            for (int j = 0; j < length; j++) {
                inputs[i * length + j] = windows[i][j];
                targets[i * length + j] = windows[i][j + 1];
            }
        }
        return new Tokens(inputs, targets, length);
    }

    /**
     * The greedy continuation of {@code [BOS] prompt}, as words, ending at {@code [EOS]} or after
     * {@code maxNew} tokens. {@code [UNK]} is never chosen (nor {@code [PAD]}, {@code [BOS]}): it is
     * the corpus's most frequent "word", and a sample of it says nothing about the model.
     */
    static String continuation(Gpt2Model model, WordVocabulary vocabulary, String prompt, int maxNew, NDManager manager) {
        List<String> words = TextCorpus.words(prompt);
        long[] ids = new long[words.size() + 1];
        ids[0] = WordVocabulary.BOS_ID;
        for (int i = 0; i < words.size(); i++) {
            ids[i + 1] = vocabulary.id(words.get(i));
        }
        TextModel sampler = new Excluding(model, new int[] {WordVocabulary.PAD_ID, WordVocabulary.UNK_ID, WordVocabulary.BOS_ID});
        long[] out = Generator.greedy(sampler, null, new long[][] {ids}, Math.max(1, maxNew), WordVocabulary.EOS_ID, true,
                b -> ForwardContext.INFERENCE, manager).get(0);
        StringBuilder text = new StringBuilder(String.join(" ", words));
        for (long id : out) {
            text.append(' ').append(vocabulary.token((int) id));
        }
        return text.toString();
    }

    /** {@code model} with the tokens {@code excluded} given no probability (HF's {@code bad_words_ids}). */
    private record Excluding(Gpt2Model model, int[] excluded) implements TextModel {
        @Override
        public TextConfig config() {
            return model.config();
        }

        @Override
        public NDArray embedTokens(NDArray ids) {
            return model.embedTokens(ids);
        }

        @Override
        public NDArray encode(NDArray embeddings, NDArray mask, KvCache cache, ForwardContext ctx) {
            return model.encode(embeddings, mask, cache, ctx);
        }

        @Override
        public NDArray logits(NDArray hidden) {
            NDArray logits = model.logits(hidden);
            float[] bias = new float[model.config().vocabSize()];
            for (int id : excluded) {
                bias[id] = -1e9f;
            }
            return logits.add(logits.getManager().create(bias));
        }
    }
}
