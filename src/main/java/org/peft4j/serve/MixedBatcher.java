package org.peft4j.serve;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.peft4j.data.ImageTransform;
import org.peft4j.data.RawImage;
import org.peft4j.peft.PeftModel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Batches queued predictions for different adapters into one forward pass: the worker takes the
 * first waiting request, gathers more for up to {@code maxWaitMs} or until {@code maxBatch}, and
 * runs them as a mixed-adapter batch ({@link PeftModel#forwardMixed}). A full queue refuses at
 * once (the server answers 503) rather than letting latency grow without bound.
 */
final class MixedBatcher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(MixedBatcher.class);

    /** One queued prediction; {@code adapter} null for the base model. */
    record Job(RawImage image, String adapter, CompletableFuture<float[]> logits) {}

    private final PeftModel peft;
    private final ImageTransform transform;
    private final NDManager manager;
    private final int maxBatch;
    private final long maxWaitNanos;
    private final BlockingQueue<Job> queue;
    private final Thread worker;
    private volatile boolean accepting = true;
    /** Sizes of the batches run, for the metrics. */
    private final java.util.function.IntConsumer batchSizes;

    MixedBatcher(PeftModel peft, ImageTransform transform, NDManager manager, int maxBatch, int maxWaitMs, int queueSize,
                 java.util.function.IntConsumer batchSizes) {
        this.peft = peft;
        this.transform = transform;
        this.manager = manager;
        this.maxBatch = maxBatch;
        this.maxWaitNanos = TimeUnit.MILLISECONDS.toNanos(maxWaitMs);
        this.queue = new ArrayBlockingQueue<>(queueSize);
        this.batchSizes = batchSizes;
        worker = new Thread(this::run, "peft4j-batcher");
        worker.setDaemon(true);
        worker.start();
    }

    /** Queues a prediction; false when the queue is full or the batcher is draining. */
    boolean offer(Job job) {
        return accepting && queue.offer(job);
    }

    int depth() {
        return queue.size();
    }

    private void run() {
        while (accepting || !queue.isEmpty()) {
            List<Job> batch = new ArrayList<>();
            try {
                Job first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                long deadline = System.nanoTime() + maxWaitNanos;
                while (batch.size() < maxBatch) {
                    long left = deadline - System.nanoTime();
                    Job next = left > 0 ? queue.poll(left, TimeUnit.NANOSECONDS) : queue.poll();
                    if (next == null) {
                        break;
                    }
                    batch.add(next);
                }
                runBatch(batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                batch.forEach(j -> j.logits().completeExceptionally(e));
                return;
            } catch (RuntimeException e) {
                LOG.error("batch of {} failed", batch.size(), e);
                batch.forEach(j -> j.logits().completeExceptionally(e));
            }
        }
    }

    private void runBatch(List<Job> batch) {
        int n = batch.size();
        float[] pixels = new float[n * transform.floatsPerImage()];
        List<String> adapters = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            transform.apply(batch.get(i).image(), pixels, i * transform.floatsPerImage());
            adapters.add(batch.get(i).adapter());
        }
        float[] logits;
        synchronized (peft) { // adapters are loaded and deleted under the same lock
            try (NDManager step = manager.newSubManager()) {
                NDArray x = step.create(pixels, new Shape(n, transform.channels(), transform.size(), transform.size()));
                logits = peft.forwardMixed(x, adapters).toFloatArray();
            }
        }
        batchSizes.accept(n);
        int labels = logits.length / n;
        for (int i = 0; i < n; i++) {
            batch.get(i).logits().complete(java.util.Arrays.copyOfRange(logits, i * labels, (i + 1) * labels));
        }
    }

    /** Stops accepting, finishes what is queued, then stops the worker. */
    @Override
    public void close() {
        accepting = false;
        try {
            worker.join(TimeUnit.SECONDS.toMillis(60));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
