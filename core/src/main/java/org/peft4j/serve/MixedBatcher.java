package org.peft4j.serve;

import org.peft4j.data.RawImage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Gathers queued requests into batches for one worker thread: it takes the first waiting request,
 * gathers more for up to {@code maxWaitMs} or until {@code maxBatch}, and hands them to the runner
 * ({@link Inference}), which answers each one. A full queue refuses at once (the server answers 503)
 * rather than letting latency grow without bound.
 */
final class MixedBatcher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(MixedBatcher.class);

    /** One queued request; {@code adapter} null for the base model. */
    sealed interface Job permits Classify, Segment {
        String adapter();

        CompletableFuture<?> answer();
    }

    /** A classification: the logits of {@code image}'s row. */
    record Classify(RawImage image, String adapter, CompletableFuture<float[]> answer) implements Job {}

    /** A segmentation: SAM's masks for each prompt. */
    record Segment(RawImage image, String adapter, List<Prompt> prompts, boolean multimask,
                   CompletableFuture<List<Inference.Masks>> answer) implements Job {}

    /** SAM prompt set in image pixels: points {@code [N][2]} with labels (1 foreground, 0 background) and/or a box. */
    record Prompt(float[][] points, int[] labels, float[] box) {}

    private final int maxBatch;
    private final long maxWaitNanos;
    private final BlockingQueue<Job> queue;
    private final Consumer<List<Job>> runner;
    private final Thread worker;
    private volatile boolean accepting = true;

    MixedBatcher(int maxBatch, int maxWaitMs, int queueSize, Consumer<List<Job>> runner) {
        this.maxBatch = maxBatch;
        this.maxWaitNanos = TimeUnit.MILLISECONDS.toNanos(maxWaitMs);
        this.queue = new ArrayBlockingQueue<>(queueSize);
        this.runner = runner;
        worker = new Thread(this::run, "peft4j-batcher");
        worker.setDaemon(true);
        worker.start();
    }

    /** Queues a request; false when the queue is full or the batcher is draining. */
    boolean offer(Job job) {
        return accepting && queue.offer(job);
    }

    int depth() {
        return queue.size();
    }

    private void run() {
        org.peft4j.nn.Threads.gradientsOffOnThisThread();
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
                runner.accept(batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                batch.forEach(j -> j.answer().completeExceptionally(e));
                return;
            } catch (RuntimeException e) {
                LOG.error("batch of {} failed", batch.size(), e);
                batch.forEach(j -> j.answer().completeExceptionally(e));
            }
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
