package org.peft4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/** Tensor operations that DJL offers in a form unsafe for training. */
public final class Ops {

    private Ops() {}

    /**
     * {@code x · s} on the autograd path. DJL's {@code mul(Number)} wraps {@code s} in a tensor over
     * Java memory and closes it at once; autograd keeps that tensor for the backward pass, which
     * then reads freed memory (garbage gradients under GC pressure). The scalar made here is
     * libtorch's own, so autograd's reference keeps it alive whatever happens to the handle.
     */
    public static NDArray scale(NDArray x, float s) {
        return x.mul(x.getManager().full(new Shape(), s, x.getDataType()));
    }

    /**
     * A copy, in memory libtorch owns, of an array made from Java data ({@code manager.create(...)}
     * wraps Java memory). Autograd may keep what an op saved past the handle's scope, and blocks
     * free their intermediates as they end ({@link Module}); Java memory would then be read after it
     * was freed.
     */
    public static NDArray owned(NDArray javaBacked) {
        try (javaBacked) {
            return javaBacked.duplicate();
        }
    }

    /**
     * GELU's tanh approximation ({@code gelu_new}, GPT-2): {@code ½x(1 + tanh(√(2/π)(x + 0.044715x³)))},
     * computed as {@code x·σ(2√(2/π)·x(1 + 0.044715x²))} (½(1 + tanh z) = σ(2z)): seven elementwise
     * ops instead of nine. DJL's gelu is only the exact (erf) form; every scalar goes through {@link #scale}.
     */
    public static NDArray geluTanh(NDArray x) {
        NDArray inner = scale(x.mul(x), 0.044715f).add(1f).mul(x);
        return x.mul(ai.djl.nn.Activation.sigmoid(scale(inner, (float) (2 * Math.sqrt(2 / Math.PI)))));
    }
}
