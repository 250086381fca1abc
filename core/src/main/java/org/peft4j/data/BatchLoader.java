package org.peft4j.data;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Batches of a dataset for one epoch, in index order or shuffled (seed and epoch fix the order).
 * Batches are decoded and transformed on background daemon threads, at most {@code prefetch} ahead of the
 * consumer, and handed out in order whatever the thread count. Each {@link #iterator()} is a new pass.
 */
public final class BatchLoader implements Iterable<Batch>, AutoCloseable {
    public static final int DEFAULT_THREADS = 1;
    public static final int DEFAULT_PREFETCH = 4;
    private static final AtomicInteger THREAD_IDS = new AtomicInteger();

    private final ImageDataset dataset;
    private final ImageTransform transform;
    private final int batchSize;
    private final int numBatches;
    private final int prefetch;
    private final int[] order;
    private final ExecutorService workers;
    private volatile boolean closed;

    public BatchLoader(ImageDataset ds, ImageTransform transform, int batchSize, boolean shuffle, long seed, int epoch,
            boolean dropLast) {
        this(ds, transform, batchSize, shuffle, seed, epoch, dropLast, DEFAULT_THREADS, DEFAULT_PREFETCH);
    }

    public BatchLoader(ImageDataset ds, ImageTransform transform, int batchSize, boolean shuffle, long seed, int epoch,
            boolean dropLast, int nThreads, int prefetch) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batchSize must be positive, got " + batchSize);
        }
        if (nThreads <= 0 || prefetch <= 0) {
            throw new IllegalArgumentException("nThreads and prefetch must be positive, got " + nThreads + " and "
                    + prefetch);
        }
        this.dataset = ds;
        this.transform = transform;
        this.batchSize = batchSize;
        this.prefetch = prefetch;
        int n = ds.size();
        this.numBatches = (int) (dropLast ? n / batchSize : ((long) n + batchSize - 1) / batchSize); // long: no overflow
        this.order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        if (shuffle) {
            SeededShuffle.shuffle(order, SeededShuffle.mix(seed, epoch));
        }
        ThreadPoolExecutor pool = new ThreadPoolExecutor(nThreads, nThreads, 10, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), daemonThreads());
        pool.allowCoreThreadTimeOut(true); // idle workers exit even if a caller forgets close()
        this.workers = pool;
    }

    public int numBatches() {
        return numBatches;
    }

    /** Dataset indices in the order this epoch visits them (before dropping the last partial batch). */
    public int[] order() {
        return order.clone();
    }

    @Override
    public Iterator<Batch> iterator() {
        ensureOpen();
        return new Pass();
    }

    /** Stops the workers: queued batches are dropped, running ones interrupted. Does not wait. */
    @Override
    public void close() {
        closed = true;
        for (Runnable queued : workers.shutdownNow()) {
            if (queued instanceof Future<?> future) {
                future.cancel(false); // wakes a consumer waiting on a batch that will never run
            }
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("BatchLoader for " + dataset.name() + " is closed");
        }
    }

    private Batch makeBatch(int b) throws InterruptedException {
        int start = (int) ((long) b * batchSize);
        int count = Math.min(batchSize, order.length - start);
        int perImage = transform.floatsPerImage();
        float[] pixels = new float[count * perImage];
        int[] labels = new int[count];
        for (int i = 0; i < count; i++) {
            if (Thread.currentThread().isInterrupted()) {
                throw new InterruptedException("batch loading stopped");
            }
            int index = order[start + i];
            transform.apply(dataset.image(index), pixels, i * perImage);
            labels[i] = dataset.label(index);
        }
        return new Batch(pixels, labels, count, transform.channels(), transform.size(), transform.size());
    }

    private static ThreadFactory daemonThreads() {
        return runnable -> {
            Thread thread = new Thread(runnable, "peft4j-batch-loader-" + THREAD_IDS.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }

    /** One pass over the epoch: a window of at most prefetch submitted batches, consumed in order. */
    private final class Pass implements Iterator<Batch> {
        private final Deque<Future<Batch>> pending = new ArrayDeque<>();
        private int nextToSubmit;
        private int nextToReturn;

        Pass() {
            fill();
        }

        @Override
        public boolean hasNext() {
            return nextToReturn < numBatches;
        }

        @Override
        public Batch next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            ensureOpen();
            Batch batch = await(pending.removeFirst(), nextToReturn);
            nextToReturn++;
            fill();
            return batch;
        }

        private void fill() {
            while (pending.size() < prefetch && nextToSubmit < numBatches) {
                int b = nextToSubmit;
                try {
                    pending.addLast(workers.submit(() -> makeBatch(b)));
                } catch (RejectedExecutionException e) {
                    throw new IllegalStateException("BatchLoader for " + dataset.name() + " is closed", e);
                }
                nextToSubmit++;
            }
        }

        private Batch await(Future<Batch> future, int b) {
            try {
                return future.get();
            } catch (ExecutionException e) {
                ensureOpen();
                cancelPending();
                Throwable cause = e.getCause();
                String detail = cause instanceof DataException ? cause.getMessage() : String.valueOf(cause);
                throw new DataException("Loading batch " + b + " of " + dataset.name() + " failed: " + detail, cause);
            } catch (CancellationException e) {
                throw new IllegalStateException("BatchLoader for " + dataset.name() + " was closed", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                cancelPending();
                throw new DataException("Interrupted while waiting for batch " + b + " of " + dataset.name(), e);
            }
        }

        private void cancelPending() {
            for (Future<Batch> future : pending) {
                future.cancel(true);
            }
            pending.clear();
            nextToReturn = numBatches; // the pass is over
        }
    }
}
