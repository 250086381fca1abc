package org.peft4j.spark;

import org.apache.spark.BarrierTaskContext;
import org.peft4j.train.DataParallel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;

/**
 * One replica of data-parallel training in a Spark barrier stage: the exchange is
 * {@link BarrierTaskContext#allGather} (adapters are small: LoRA r=8 on ViT-B is 1.2 MB of gradients
 * per replica and step), summed in task order so that every replica gets the same bits.
 */
final class SparkReplica implements DataParallel {

    private final BarrierTaskContext context;
    private final int rank;
    private final int replicas;

    SparkReplica(BarrierTaskContext context, int replicas) {
        this.context = context;
        this.rank = context.partitionId();
        this.replicas = replicas;
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int replicas() {
        return replicas;
    }

    /** Rank 0 meets the others at the barrier they wait at before building their models. */
    @Override
    public void ready() {
        if (rank == 0) {
            context.barrier();
        }
    }

    @Override
    public float[] allSum(float[] local) {
        ByteBuffer bytes = ByteBuffer.allocate(local.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(local);
        // Spark's barrier calls poll for completion once a second: a step that waits for another replica costs
        // at least that (docs/spark.md: make each step's compute large, e.g. with --grad-accum).
        String[] all = context.allGather(Base64.getEncoder().encodeToString(bytes.array()));
        if (all.length != replicas) {
            throw new IllegalStateException("all-gather returned " + all.length + " messages for " + replicas + " replicas");
        }
        float[] sum = new float[local.length];
        for (String message : all) { // in task order on every replica: the same sums everywhere
            java.nio.FloatBuffer v = ByteBuffer.wrap(Base64.getDecoder().decode(message)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
            if (v.remaining() != local.length) {
                throw new IllegalStateException("replicas disagree on the gradient size: " + v.remaining() + " vs " + local.length);
            }
            for (int i = 0; i < sum.length; i++) {
                sum[i] += v.get(i);
            }
        }
        return sum;
    }
}
