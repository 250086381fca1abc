package org.peft4j.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import me.tongfei.progressbar.ProgressBar;
import org.peft4j.data.SeededShuffle;
import org.peft4j.data.seg.Regions;
import org.peft4j.data.seg.SegmentationDataset;
import org.peft4j.models.sam.Resize;
import org.peft4j.models.sam.SamMaskDecoder;
import org.peft4j.models.sam.SamModel;
import org.peft4j.nn.ForwardContext;
import org.peft4j.segmentation.PromptSampler;
import org.peft4j.segmentation.SamInput;
import org.peft4j.segmentation.SegEvaluator;
import org.peft4j.segmentation.SegLoss;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Promptable segmentation training of SAM (whatever part of it trains: an adapter's parameters, the
 * decoder, everything): each image of a batch contributes up to {@value #REGIONS_PER_IMAGE} random
 * regions of its mask, each prompted with a random point set or a jittered box (one kind per batch);
 * the image encoder runs once on the batch, the decoder pairs each prompt with its image's embedding; {@link SegLoss} on the single-mask output upsampled
 * to the model input. AdamW with warm-up + cosine, global-norm clipping, a resumable checkpoint after
 * each epoch. The weights of the last epoch are kept (there is no validation split to choose by).
 */
public final class SegTrainer {

    private static final Logger LOG = LoggerFactory.getLogger(SegTrainer.class);
    /**
     * Regions prompted per image and step (SAM's training samples several masks per image): the
     * encoder, the costly part, runs once per image for all of them.
     */
    public static final int REGIONS_PER_IMAGE = 4;
    /** Prepared inputs are kept in memory up to this many bytes; beyond, images are decoded every epoch. */
    private static final long CACHE_BYTES = 1L << 30;

    private final TrainConfig config;
    private final SamModel sam;
    private final Map<String, Parameter> trainable;
    private final NDManager manager;
    private MetricsLog metrics;
    private Path checkpointDir;
    private boolean resume;
    private boolean progress = true;

    public record EpochResult(int epoch, double loss, double focal, double dice, double iou, double imagesPerSecond,
                              double seconds) {}

    public record Result(List<EpochResult> epochs, double imagesPerSecond, long optimizerSteps, int skippedImages,
                         double seconds) {}

    public SegTrainer(TrainConfig config, SamModel sam, Map<String, Parameter> trainable, NDManager manager) {
        if (trainable.isEmpty()) {
            throw new IllegalArgumentException("nothing to train: no trainable parameters");
        }
        this.config = config;
        this.sam = sam;
        this.trainable = trainable;
        this.manager = manager;
    }

    public SegTrainer metricsTo(Path file) throws IOException {
        this.metrics = file == null ? null : new MetricsLog(file);
        return this;
    }

    public SegTrainer checkpointTo(Path dir, boolean resumeFromIt) {
        this.checkpointDir = dir;
        this.resume = resumeFromIt;
        return this;
    }

    public SegTrainer showProgress(boolean show) {
        this.progress = show;
        return this;
    }

    private record Prepared(SamInput input, List<Regions.Region> regions) {}

    public Result fit(SegmentationDataset train) throws IOException {
        int n = train.size();
        int batches = (int) (((long) n + config.batchSize() - 1) / config.batchSize()); // long: no overflow
        long totalSteps = (long) batches * config.epochs();
        LearningRateSchedule schedule = new LearningRateSchedule(config.learningRate(),
                Math.round(config.warmupRatio() * totalSteps), totalSteps, 0.0);
        int size = sam.config().encoder().imgSize();
        boolean cache = (long) n * (3L * size * size * 4 + (long) size * size) <= CACHE_BYTES;
        Map<Integer, Prepared> prepared = new HashMap<>();
        List<EpochResult> history = new ArrayList<>();
        long images = 0;
        double trainSeconds = 0;
        int skipped = 0;
        long t0 = System.nanoTime();
        try (AdamW optimizer = new AdamW(trainable, config.weightDecay(), manager)) {
            int startEpoch = 0;
            if (resume && checkpointDir != null && Checkpoint.exists(checkpointDir)) {
                startEpoch = Checkpoint.load(checkpointDir, trainable, optimizer).epochsDone();
                LOG.info("resumed from {} after epoch {}", checkpointDir, startEpoch);
            }
            for (int epoch = startEpoch; epoch < config.epochs(); epoch++) {
                Engine.getInstance().setRandomSeed((int) (config.seed() * 1_000 + epoch));
                long e0 = System.nanoTime();
                int[] order = new int[n];
                for (int i = 0; i < n; i++) {
                    order[i] = i;
                }
                SeededShuffle.shuffle(order, SeededShuffle.mix(config.seed(), epoch));
                double[] sums = new double[4];
                int seen = 0;
                try (ProgressBar bar = progress ? Progress.bar("epoch " + (epoch + 1) + "/" + config.epochs(), batches) : null) {
                    for (int k = 0; k < batches; k++) {
                        Random rnd = new Random(SeededShuffle.mix(SeededShuffle.mix(config.seed(), epoch), k));
                        List<Prepared> batch = new ArrayList<>();
                        for (int j = k * config.batchSize(); j < Math.min(n, (k + 1) * config.batchSize()); j++) {
                            Prepared p = cache ? prepared.get(order[j]) : null;
                            if (p == null) {
                                SegmentationDataset.Sample sample = train.sample(order[j]);
                                SamInput in = SamInput.of(sample.image(), sample.mask(), sam.config());
                                p = new Prepared(in, Regions.of(in.mask(), SegEvaluator.MIN_AREA));
                                if (cache) {
                                    prepared.put(order[j], p);
                                }
                            }
                            if (p.regions().isEmpty()) {
                                skipped += epoch == startEpoch ? 1 : 0;
                                continue; // nothing to prompt on this image
                            }
                            batch.add(p);
                        }
                        if (!batch.isEmpty()) {
                            SegLoss.Value loss = step(batch, rnd);
                            long step = optimizer.stepCount();
                            double gradNorm = optimizer.clipGradNorm(config.maxGradNorm());
                            double lr = schedule.at(step);
                            optimizer.step(lr);
                            double value = loss.focal() * SegLoss.FOCAL_WEIGHT + loss.dice() + loss.iou();
                            sums[0] += value * batch.size();
                            sums[1] += loss.focal() * batch.size();
                            sums[2] += loss.dice() * batch.size();
                            sums[3] += loss.iou() * batch.size();
                            seen += batch.size();
                            if (metrics != null && (step + 1) % config.logEvery() == 0) {
                                metrics.write(Map.of("type", "train", "epoch", epoch + 1, "step", step + 1, "loss", value,
                                        "focal", loss.focal(), "dice", loss.dice(), "iou_mse", loss.iou(), "lr", lr,
                                        "grad_norm", gradNorm, "images_per_s", seen / seconds(e0)));
                            }
                            if (bar != null) {
                                bar.setExtraMessage(String.format(Locale.ROOT, " loss %.4f | %.1f img/s", value, seen / seconds(e0)));
                            }
                        }
                        if (bar != null) {
                            bar.step();
                        }
                    }
                }
                double epochSeconds = seconds(e0);
                images += seen;
                trainSeconds += epochSeconds;
                int d = Math.max(1, seen);
                EpochResult r = new EpochResult(epoch + 1, sums[0] / d, sums[1] / d, sums[2] / d, sums[3] / d,
                        seen / epochSeconds, epochSeconds);
                history.add(r);
                LOG.info(String.format(Locale.ROOT, "epoch %d: loss %.4f (focal %.4f, dice %.4f, iou mse %.4f), %.1f img/s",
                        r.epoch(), r.loss(), r.focal(), r.dice(), r.iou(), r.imagesPerSecond()));
                if (metrics != null) {
                    metrics.write(Map.of("type", "epoch", "epoch", epoch + 1, "train_loss", r.loss(), "focal", r.focal(),
                            "dice", r.dice(), "iou_mse", r.iou(), "images_per_s", r.imagesPerSecond(), "seconds", epochSeconds));
                }
                if (checkpointDir != null) {
                    Checkpoint.save(checkpointDir, trainable, optimizer, new Checkpoint.State(epoch + 1, epoch + 1, -1), null);
                }
            }
            if (skipped > 0) {
                LOG.warn("{} training images have no region of at least {} pixels to prompt on; they were skipped",
                        skipped, SegEvaluator.MIN_AREA);
            }
            return new Result(history, trainSeconds > 0 ? images / trainSeconds : 0, optimizer.stepCount(), skipped,
                    seconds(t0));
        }
    }

    /** Forward, loss and backward of one batch; gradients add to the trainable parameters'. */
    private SegLoss.Value step(List<Prepared> batch, Random rnd) {
        int b = batch.size();
        int size = sam.config().encoder().imgSize();
        int plane = size * size;
        PromptSampler.Kind kind = rnd.nextBoolean() ? PromptSampler.Kind.POINT : PromptSampler.Kind.BOX;
        float[] pixels = new float[b * 3 * plane];
        List<PromptSampler.Prompt> prompts = new ArrayList<>();
        List<Integer> owner = new ArrayList<>(); // the image of each prompt
        List<float[]> targets = new ArrayList<>();
        for (int i = 0; i < b; i++) {
            Prepared p = batch.get(i);
            SamInput in = p.input();
            System.arraycopy(in.pixels(), 0, pixels, i * 3 * plane, 3 * plane);
            List<Regions.Region> regions = new ArrayList<>(p.regions());
            java.util.Collections.shuffle(regions, rnd);
            for (Regions.Region r : regions.subList(0, Math.min(REGIONS_PER_IMAGE, regions.size()))) {
                prompts.add(PromptSampler.sample(r, in.inputW(), in.inputH(), kind, rnd));
                owner.add(i);
                float[] t = new float[plane];
                for (int q : r.pixels()) {
                    t[(q / in.inputW()) * size + q % in.inputW()] = 1f;
                }
                targets.add(t);
            }
        }
        int n = prompts.size();
        float[] target = new float[n * plane];
        float[] valid = new float[n * plane];
        long[] index = new long[n];
        for (int k = 0; k < n; k++) {
            System.arraycopy(targets.get(k), 0, target, k * plane, plane);
            SamInput in = batch.get(owner.get(k)).input();
            for (int y = 0; y < in.inputH(); y++) {
                java.util.Arrays.fill(valid, k * plane + y * size, k * plane + y * size + in.inputW(), 1f);
            }
            index[k] = owner.get(k);
        }
        float[] ones = new float[n];
        java.util.Arrays.fill(ones, 1f);
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            ForwardContext ctx = ForwardContext.TRAINING;
            NDArray x = manager.create(pixels, new Shape(b, 3, size, size));
            Shape maskShape = new Shape(n, 1, size, size);
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray embeddings = sam.forward(x, ctx);
                // each image's embedding once per prompt on it (a gather: gradients add back per image)
                NDArray perPrompt = n == b ? embeddings : embeddings.get(manager.create(index)); // n == b: one each, in order
                SamMaskDecoder.Output o = sam.decode(perPrompt, PromptSampler.batch(prompts, ones, ones, manager), false, ctx);
                NDArray logits = Resize.bilinear(o.lowResMasks(), size, size);
                SegLoss.Value loss = SegLoss.of(logits, manager.create(target, maskShape), manager.create(valid, maskShape),
                        o.iouPredictions());
                if (!Double.isFinite(loss.focal() + loss.dice() + loss.iou())) {
                    throw new IllegalStateException("training diverged: loss is not finite (lower the learning rate)");
                }
                collector.backward(loss.total());
                return loss;
            }
        }
    }

    private static double seconds(long since) {
        return Math.max(1e-9, (System.nanoTime() - since) / 1e9);
    }
}
