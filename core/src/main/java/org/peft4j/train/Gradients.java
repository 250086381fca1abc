package org.peft4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/** Gradient housekeeping that DJL's API leaves to its optimizers. */
final class Gradients {

    private Gradients() {}

    /**
     * PyTorch accumulates gradients across backward calls and DJL zeroes them only inside its own
     * optimizers. {@code g - g} would keep a NaN, so use libtorch's zero when we have it.
     */
    static void zero(NDArray param) {
        if (param instanceof PtNDArray pt) {
            JniUtils.zeroGrad(pt);
        } else {
            try (NDArray g = param.getGradient()) {
                g.subi(g);
            }
        }
    }
}
