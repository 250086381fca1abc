package org.peft4j.nn;

import ai.djl.ndarray.NDArray;

/** Tensor operations that DJL offers in a form unsafe for training. */
public final class Ops {

    private Ops() {}

    /**
     * {@code x · s} on the autograd path. DJL's {@code mul(Number)} wraps {@code s} in a tensor over
     * Java memory and closes it at once; autograd keeps that tensor for the backward pass, which
     * then reads freed memory (garbage gradients under GC pressure). The scalar made here lives as
     * long as {@code x}'s step scope.
     */
    public static NDArray scale(NDArray x, float s) {
        return x.mul(x.getManager().create(s));
    }
}
