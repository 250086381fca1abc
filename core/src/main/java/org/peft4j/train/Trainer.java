package org.peft4j.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import me.tongfei.progressbar.ProgressBar;
import org.peft4j.data.Batch;
import org.peft4j.data.BatchLoader;
import org.peft4j.data.ImageDataset;
import org.peft4j.data.ImageTransform;
import org.peft4j.eval.ConfusionMatrix;
import org.peft4j.eval.Metrics;
import org.peft4j.nn.Module;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.Initializers;
import org.peft4j.nn.Ops;
import org.peft4j.nn.Staged;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The training loop: shuffled batches, forward, cross-entropy, backward, global-norm clipping,
 * AdamW with warm-up + cosine, evaluation each epoch, best weights kept, checkpoint each epoch.
 *
 * <p>Every step runs inside an {@link NDScope}, so each intermediate array is freed with its step
 * whatever manager it attached to (DJL-NOTES: results attach to the first operand's manager).
 */
public final class Trainer {

    private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);

    private final TrainConfig config;
    private final Module model;
    private final LinkedHashMap<String, Parameter> trainable;
    private final NDManager manager;
    private MetricsLog metrics;
    private Path checkpointDir;
    private boolean resume;
    private boolean progress = true;

    public record EpochResult(int epoch, double trainLoss, double valLoss, double valAccuracy,
                              double imagesPerSecond, double seconds) {}

    public record Result(List<EpochResult> epochs, int bestEpoch, double bestValAccuracy,
                         double imagesPerSecond, long optimizerSteps, double seconds) {}

    public record Evaluation(ConfusionMatrix confusion, double loss) {
        public double accuracy() {
            return confusion.accuracy();
        }
    }

    /** The replicas this trainer is one of (Spark's data-parallel training), or null. */
    private final DataParallel parallel;

    public Trainer(TrainConfig config, Module model, LinkedHashMap<String, Parameter> trainable, NDManager manager) {
        if (trainable.isEmpty()) {
            throw new IllegalArgumentException("nothing to train: no trainable parameters");
        }
        this.config = config;
        this.model = model;
        this.trainable = trainable;
        this.manager = manager;
        this.parallel = DataParallel.current();
    }

    /** Appends one JSON object per log step and per epoch to {@code file}. */
    public Trainer metricsTo(Path file) throws IOException {
        this.metrics = file == null ? null : new MetricsLog(file);
        return this;
    }

    /** Saves a resumable checkpoint in {@code dir} after every epoch; with resume, starts from it. */
    public Trainer checkpointTo(Path dir, boolean resumeFromIt) {
        this.checkpointDir = dir;
        this.resume = resumeFromIt;
        return this;
    }

    public Trainer showProgress(boolean show) {
        this.progress = show;
        return this;
    }

    public Result fit(ImageDataset train, ImageDataset val, ImageTransform transform) throws IOException {
        long batchesPerEpoch = ((long) train.size() + config.batchSize() - 1) / config.batchSize(); // long: no overflow
        long stepsPerEpoch = (batchesPerEpoch + config.gradientAccumulation() - 1) / config.gradientAccumulation();
        long totalSteps = stepsPerEpoch * config.epochs();
        LearningRateSchedule schedule = new LearningRateSchedule(config.learningRate(),
                Math.round(config.warmupRatio() * totalSteps), totalSteps, 0.0);
        try (AdamW optimizer = new AdamW(trainable, config.weightDecay(), manager)) {
            return fit(train, val, transform, schedule, optimizer);
        }
    }

    private Result fit(ImageDataset train, ImageDataset val, ImageTransform transform,
                       LearningRateSchedule schedule, AdamW optimizer) throws IOException {
        List<EpochResult> history = new ArrayList<>();
        int startEpoch = 0;
        int bestEpoch = -1;
        double bestAcc = -1;
        if (resume && checkpointDir != null && Checkpoint.exists(checkpointDir)) {
            Checkpoint.State s = Checkpoint.load(checkpointDir, trainable, optimizer);
            startEpoch = s.epochsDone();
            bestEpoch = s.bestEpoch();
            bestAcc = s.bestValAccuracy();
            LOG.info("resumed from {} after epoch {}", checkpointDir, startEpoch);
        }
        Map<String, float[]> best = bestAcc >= 0 && checkpointDir != null
                ? Checkpoint.loadBest(checkpointDir, trainable) : null;
        if (parallel != null) {
            parallel.ready();
            startFromRankZero();
        }
        long images = 0;
        double trainSeconds = 0;
        long t0 = System.nanoTime();
        for (int epoch = startEpoch; epoch < config.epochs(); epoch++) {
            Engine.getInstance().setRandomSeed((int) (config.seed() * 1_000 + epoch)); // dropout masks
            long e0 = System.nanoTime();
            double lossSum = 0;
            int seen = 0;
            try (BatchLoader loader = new BatchLoader(train, transform, config.batchSize(), true, config.seed(), epoch, false);
                 ProgressBar bar = progressBar("epoch " + (epoch + 1) + "/" + config.epochs(), loader.numBatches())) {
                int micro = 0;
                int accumulation = config.gradientAccumulation();
                double groupLoss = 0; // sum of loss × rows over the accumulation group (this replica's rows)
                int groupRows = 0;
                for (Batch batch : loader) {
                    // A last, shorter accumulation group averages over its own micro-batches.
                    int group = Math.min(accumulation, loader.numBatches() - micro / accumulation * accumulation);
                    Batch mine = parallel == null ? batch : share(batch);
                    // the shares' gradients add up to the whole batch's mean
                    double scale = parallel == null ? 1.0 / group : 1.0 / group * mine.size() / batch.size();
                    double loss = mine.size() == 0 ? 0 : forwardBackward(mine, scale);
                    groupLoss += loss * mine.size();
                    groupRows += batch.size();
                    seen += batch.size();
                    micro++;
                    boolean last = micro == loader.numBatches();
                    if (micro % accumulation == 0 || last) {
                        if (parallel != null) {
                            groupLoss = sumOverReplicas(groupLoss);
                        }
                        loss = groupLoss / groupRows;
                        lossSum += groupLoss;
                        groupLoss = 0;
                        groupRows = 0;
                        long step = optimizer.stepCount();
                        double gradNorm = optimizer.clipGradNorm(config.maxGradNorm());
                        double lr = schedule.at(step);
                        synchronized (AUTOGRAD) { // in-place updates of leaves: never while a replica records a graph
                            optimizer.step(lr);
                        }
                        if (metrics != null && (step + 1) % config.logEvery() == 0) {
                            metrics.write(Map.of("type", "train", "epoch", epoch + 1, "step", step + 1,
                                    "loss", loss, "lr", lr, "grad_norm", gradNorm,
                                    "images_per_s", seen / seconds(e0)));
                        }
                    }
                    if (bar != null) {
                        bar.step();
                        bar.setExtraMessage(String.format(Locale.ROOT, " loss %.4f | %.0f img/s", loss, seen / seconds(e0)));
                    }
                }
            }
            double epochSeconds = seconds(e0);
            images += seen;
            trainSeconds += epochSeconds;
            Evaluation eval = evaluate(model, val, transform, config.batchSize(), manager);
            EpochResult r = new EpochResult(epoch + 1, lossSum / seen, eval.loss(), eval.accuracy(),
                    seen / epochSeconds, epochSeconds);
            history.add(r);
            LOG.info(String.format(Locale.ROOT, "epoch %d: train loss %.4f, val loss %.4f, val accuracy %.4f, %.0f img/s",
                    r.epoch(), r.trainLoss(), r.valLoss(), r.valAccuracy(), r.imagesPerSecond()));
            if (metrics != null) {
                metrics.write(Map.of("type", "eval", "epoch", epoch + 1, "train_loss", r.trainLoss(),
                        "val_loss", r.valLoss(), "val_accuracy", r.valAccuracy(),
                        "images_per_s", r.imagesPerSecond(), "seconds", epochSeconds));
            }
            if (eval.accuracy() > bestAcc) {
                bestAcc = eval.accuracy();
                bestEpoch = epoch + 1;
                best = snapshot();
            }
            if (checkpointDir != null) {
                Checkpoint.save(checkpointDir, trainable, optimizer,
                        new Checkpoint.State(epoch + 1, bestEpoch, bestAcc), best);
            }
        }
        if (config.keepBest() && best != null) {
            restore(best);
            LOG.info("kept the weights of epoch {} (best val accuracy {})", bestEpoch,
                    String.format(Locale.ROOT, "%.4f", bestAcc));
        }
        return new Result(history, bestEpoch, bestAcc, trainSeconds > 0 ? images / trainSeconds : 0,
                optimizer.stepCount(), seconds(t0));
    }

    /** Every replica starts from rank 0's trainable values (a sum where the others add zeros). */
    private void startFromRankZero() {
        List<NDArray> values = new ArrayList<>();
        trainable.values().forEach(p -> values.add(p.getArray()));
        float[] flat = flatten(values, 0);
        if (parallel.rank() != 0) {
            java.util.Arrays.fill(flat, 0f);
        }
        float[] sum = parallel.allSum(flat);
        synchronized (AUTOGRAD) {
            scatter(sum, values);
        }
    }

    /** The arrays' values one after the other, then {@code extra} free slots. */
    private static float[] flatten(List<NDArray> arrays, int extra) {
        long total = extra;
        for (NDArray a : arrays) {
            total += a.size();
        }
        float[] flat = new float[Math.toIntExact(total)];
        int at = 0;
        for (NDArray a : arrays) {
            float[] v = a.toFloatArray();
            System.arraycopy(v, 0, flat, at, v.length);
            at += v.length;
        }
        return flat;
    }

    /** Sets the arrays from {@code flat} (laid out as {@link #flatten} does); returns where they end in it. */
    private static int scatter(float[] flat, List<NDArray> arrays) {
        int at = 0;
        for (NDArray a : arrays) {
            int n = Math.toIntExact(a.size());
            Initializers.copyInto(a, java.util.Arrays.copyOfRange(flat, at, at + n));
            at += n;
        }
        return at;
    }

    /** This replica's contiguous share of a global batch's rows. */
    private Batch share(Batch batch) {
        int[] range = DataParallel.share(batch.size(), parallel.rank(), parallel.replicas());
        int n = range[1] - range[0];
        int per = batch.channels() * batch.height() * batch.width();
        float[] pixels = java.util.Arrays.copyOfRange(batch.pixels(), range[0] * per, range[1] * per);
        int[] labels = java.util.Arrays.copyOfRange(batch.labels(), range[0], range[1]);
        return new Batch(pixels, labels, n, batch.channels(), batch.height(), batch.width());
    }

    /**
     * Replaces every trainable gradient by its sum over the replicas, and returns the sum of
     * {@code local} (one exchange per optimizer step: the gradients and the loss travel together).
     */
    private double sumOverReplicas(double local) {
        try (NDScope scope = new NDScope()) { // frees the gradient handles
            scope.suppressNotUsedWarning();
            List<NDArray> grads = new ArrayList<>();
            trainable.values().forEach(p -> grads.add(p.getArray().getGradient()));
            float[] flat = flatten(grads, 1);
            flat[flat.length - 1] = (float) local;
            float[] sum = parallel.allSum(flat);
            return sum[scatter(sum, grads)];
        }
    }

    /** One micro-batch: forward, loss, backward of {@code lossScale × loss}. Returns the batch loss. */
    private double forwardBackward(Batch batch, double lossScale) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray x = manager.create(batch.pixels(),
                    new Shape(batch.size(), batch.channels(), batch.height(), batch.width()));
            double value = config.gradientCheckpointing() && model instanceof Staged staged
                    ? checkpointedBackward(staged, x, batch.labels(), lossScale)
                    : backward(model, x, batch.labels(), lossScale);
            if (!Double.isFinite(value)) {
                throw new IllegalStateException("training diverged: loss is " + value
                        + " (lower the learning rate or enable gradient clipping)");
            }
            return value;
        }
    }

    /**
     * Forward pass, cross-entropy and backward of {@code lossScale × loss}; gradients add to the
     * trainable parameters'. Returns the unscaled loss. Callers own the scope that frees the graph.
     */
    public static double backward(Module model, NDArray x, int[] labels, double lossScale) {
        synchronized (AUTOGRAD) {
            return backwardAlone(model, x, labels, lossScale);
        }
    }

    /**
     * DJL allows one GradientCollector at a time per JVM (DJL-NOTES), and while one is open, gradient
     * recording is on for every thread (an in-place update of a parameter elsewhere then fails); so
     * replicas that share a JVM (Spark's local[N] runs tasks as threads) take turns through this lock
     * for backward passes and optimizer steps.
     */
    private static final Object AUTOGRAD = new Object();

    private static double backwardAlone(Module model, NDArray x, int[] labels, double lossScale) {
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray loss = crossEntropy(model.forward(x, true), labels);
            collector.backward(lossScale == 1.0 ? loss : Ops.scale(loss, (float) lossScale));
            return loss.getFloat();
        }
    }

    /**
     * {@link #backward} with gradient checkpointing: a first pass without recording keeps only each
     * stage's input; then, last stage first, each stage is recomputed with recording on and back-propagated
     * from the gradient of its output (the loss for the last stage, {@code sum(y · g)} for the others, whose
     * input gradient is the vector-Jacobian product), handing its input's gradient to the stage before.
     * Parameter gradients add up across the stages exactly as in one backward pass; at most one stage's
     * graph is alive at a time. Dropout masks are drawn again in the recompute (with dropout they differ
     * from the first pass; the loss is the recomputed one).
     */
    public static double checkpointedBackward(Staged model, NDArray x, int[] labels, double lossScale) {
        List<java.util.function.UnaryOperator<NDArray>> stages = model.stages(ForwardContext.TRAINING);
        List<NDArray> inputs = new ArrayList<>();
        NDArray h = x;
        for (java.util.function.UnaryOperator<NDArray> stage : stages) { // not recorded: no collector is open
            inputs.add(h);
            try (NDScope scope = new NDScope()) {
                NDArray out = stage.apply(h);
                NDScope.unregister(out);
                h = out;
            }
        }
        double loss = Double.NaN;
        NDArray upstream = null;
        for (int i = stages.size() - 1; i >= 0; i--) {
            NDArray in = inputs.get(i);
            NDArray inputGradient = null;
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                synchronized (AUTOGRAD) {
                    try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                        if (i > 0) {
                            in.setRequiresGradient(true);
                        }
                        NDArray y = stages.get(i).apply(in);
                        if (upstream == null) {
                            NDArray l = crossEntropy(y, labels);
                            loss = l.getFloat();
                            collector.backward(lossScale == 1.0 ? l : Ops.scale(l, (float) lossScale));
                        } else {
                            backwardUnlessFrozen(collector, y.mul(upstream).sum(), i);
                        }
                    }
                }
                if (i > 0) {
                    inputGradient = in.getGradient().duplicate();
                    NDScope.unregister(inputGradient);
                }
            }
            if (upstream != null) {
                upstream.close();
            }
            if (i > 0) {
                inputs.get(i).close(); // its gradient buffer goes with it
            }
            upstream = inputGradient;
        }
        return loss;
    }

    /**
     * Back-propagates {@code target}; for the first stage (its input is the batch), a target that nothing
     * trainable produced (frozen embeddings) has no graph, and there is nothing to do.
     */
    private static void backwardUnlessFrozen(GradientCollector collector, NDArray target, int stage) {
        try {
            collector.backward(target);
        } catch (ai.djl.engine.EngineException e) {
            if (stage > 0 || e.getMessage() == null || !e.getMessage().contains("does not require grad")) {
                throw e;
            }
        }
    }

    /** Mean softmax cross-entropy of {@code logits [N, K]} against integer labels. */
    public static NDArray crossEntropy(NDArray logits, int[] labels) {
        long classes = logits.getShape().get(1);
        NDArray oneHot = logits.getManager().create(labels).oneHot((int) classes);
        return logits.logSoftmax(1).mul(oneHot).sum(new int[] {1}).neg().mean();
    }

    /** Accuracy, confusion matrix and mean loss of {@code model} on {@code ds}, without gradients. */
    public static Evaluation evaluate(Module model, ImageDataset ds, ImageTransform transform, int batchSize,
                                      NDManager manager) {
        ConfusionMatrix cm = new ConfusionMatrix(ds.classes());
        double lossSum = 0;
        try (BatchLoader loader = new BatchLoader(ds, transform, batchSize, false, 0, 0, false)) {
            for (Batch batch : loader) {
                try (NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    NDArray x = manager.create(batch.pixels(),
                            new Shape(batch.size(), batch.channels(), batch.height(), batch.width()));
                    NDArray logits = model.forward(x, false);
                    lossSum += crossEntropy(logits, batch.labels()).getFloat() * batch.size();
                    int classes = (int) logits.getShape().get(1);
                    cm.addAll(Metrics.argmax(logits.toFloatArray(), batch.size(), classes), batch.labels());
                }
            }
        }
        return new Evaluation(cm, cm.total() == 0 ? Double.NaN : lossSum / cm.total());
    }

    private Map<String, float[]> snapshot() {
        Map<String, float[]> out = new LinkedHashMap<>();
        trainable.forEach((k, p) -> out.put(k, p.getArray().toFloatArray()));
        return out;
    }

    private void restore(Map<String, float[]> values) {
        trainable.forEach((k, p) -> Initializers.copyInto(p.getArray(), values.get(k)));
    }

    private ProgressBar progressBar(String task, int max) {
        return progress ? Progress.bar(task, max) : null;
    }

    private static double seconds(long since) {
        return Math.max(1e-9, (System.nanoTime() - since) / 1e9);
    }
}
