package org.peft4j.tuners.mopeft;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import org.peft4j.nn.Hook;
import org.peft4j.nn.Initializers;

/**
 * One UniPELT gate: {@code g = mean over the tokens of σ(x·w + c)}, a {@code Linear(d→1)} with PyTorch's
 * default init; one scalar per example. The token axes are every axis between the batch and the
 * channels, so a sequence {@code [B, N, d]} and a grid {@code [B, H, W, d]} both work. While not
 * training, the mean gate value is accumulated, for the report of which submodule the data chose.
 */
final class Gate {

    final Parameter weight;
    final Parameter bias;
    private double sum;
    private long count;

    Gate(String name, int dim) {
        weight = Hook.parameter(name + ".weight", new Shape(1, dim), Initializers.uniformFanIn(dim));
        bias = Hook.parameter(name + ".bias", new Shape(1), Initializers.uniformFanIn(dim));
    }

    /** {@code [B]} gate values for {@code x [B, ..., d]}. */
    NDArray of(NDArray x, boolean training) {
        NDArray s = Activation.sigmoid(Linear.linear(x, weight.getArray(), bias.getArray()).singletonOrThrow()); // [B, ..., 1]
        NDArray g = s.reshape(x.getShape().get(0), -1).mean(new int[] {1}); // DJL's mean takes one axis
        if (!training) {
            float[] v = g.toFloatArray();
            for (float f : v) {
                sum += f;
            }
            count += v.length;
        }
        return g;
    }

    /**
     * Several gates reading the same {@code x [B, ..., d]} in one matmul: {@code [B, G]}, column i the
     * values of {@code gates[i]} (what {@link #of} gives each, with the same bookkeeping).
     */
    static NDArray ofAll(java.util.List<Gate> gates, NDArray x, boolean training) {
        if (gates.size() == 1) {
            return gates.get(0).of(x, training).expandDims(1);
        }
        ai.djl.ndarray.NDList ws = new ai.djl.ndarray.NDList();
        ai.djl.ndarray.NDList bs = new ai.djl.ndarray.NDList();
        for (Gate g : gates) {
            ws.add(g.weight.getArray());
            bs.add(g.bias.getArray());
        }
        NDArray w = ai.djl.ndarray.NDArrays.concat(ws, 0); // [G, d]
        w.attach(x.getManager()); // made from parameters: free it with the step (DJL-NOTES)
        NDArray b = ai.djl.ndarray.NDArrays.concat(bs, 0);
        b.attach(x.getManager());
        NDArray s = Activation.sigmoid(Linear.linear(x, w, b).singletonOrThrow()); // [B, ..., G]
        NDArray all = s.reshape(x.getShape().get(0), -1, gates.size()).mean(new int[] {1}); // [B, G]
        if (!training) {
            float[] v = all.toFloatArray();
            int n = gates.size();
            for (int i = 0; i < v.length; i++) { // row-major [B, G]: one value per example and gate
                gates.get(i % n).sum += v[i];
                gates.get(i % n).count++;
            }
        }
        return all;
    }

    /** The mean gate value over everything seen outside training since the last reset, or NaN. */
    double mean() {
        return count == 0 ? Double.NaN : sum / count;
    }

    void reset() {
        sum = 0;
        count = 0;
    }

    /** {@code g [B]} broadcast over a tensor whose batch is {@code B·n} (windows of each image in turn) and {@code dims} axes. */
    static NDArray expand(NDArray g, long batch, int dims) {
        long b = g.getShape().get(0);
        NDArray e = batch == b ? g : g.reshape(b, 1).broadcast(b, batch / b).reshape(batch);
        long[] shape = new long[dims];
        java.util.Arrays.fill(shape, 1);
        shape[0] = batch;
        return e.reshape(new Shape(shape));
    }
}
