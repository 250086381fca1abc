package org.peft4j.train;

import java.util.concurrent.Callable;

/**
 * Synchronous data parallelism for the {@link Trainer}: this replica's rank among {@code replicas()},
 * and the exchange that sums a vector over the replicas. Every replica walks the same global batches
 * (same data, same seed), computes the gradient of its contiguous share of each batch's rows, scaled so
 * that the shares add up to the whole batch's mean, and the trainer replaces its gradients with their sum
 * before clipping and the optimizer step: the replicas take identical steps, equal to one process
 * training on the whole batch. The exchange itself is the caller's (Spark's barrier all-gather).
 */
public interface DataParallel {

    int rank();

    int replicas();

    /**
     * The element-wise sum of {@code local} over all replicas. Every replica must get the same result
     * (sum in rank order), or their weights drift apart.
     */
    float[] allSum(float[] local);

    /**
     * Called once the replica's model and adapter are built, before the first step (Spark's rank 0
     * releases the other replicas here, so that its seeded initialisation is not interleaved with
     * theirs on the engine's one random generator).
     */
    default void ready() {}

    /** The data parallelism the training on this thread runs under, or null for plain training. */
    static DataParallel current() {
        return Holder.CURRENT.get();
    }

    /** Runs {@code body} on this thread as replica {@code dp} (how a Spark task trains its replica). */
    static <T> T run(DataParallel dp, Callable<T> body) throws Exception {
        Holder.CURRENT.set(dp);
        try {
            return body.call();
        } finally {
            Holder.CURRENT.remove();
        }
    }

    /** Row range {@code [from, to)} of a batch of {@code size} rows that replica {@code rank} computes. */
    static int[] share(int size, int rank, int replicas) {
        return new int[] {(int) ((long) size * rank / replicas), (int) ((long) size * (rank + 1) / replicas)};
    }

    /** The thread-local behind {@link #current()} (interfaces cannot hold private fields). */
    final class Holder {
        private static final ThreadLocal<DataParallel> CURRENT = new ThreadLocal<>();

        private Holder() {}
    }
}
