package org.peft4j.models.sam;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Bilinear resizing as PyTorch's {@code F.interpolate(mode="bilinear", align_corners=False)} without
 * antialiasing: DJL's {@code interpolation} forces antialiasing when downsampling (DJL-NOTES), which
 * SAM's post-processing does not do. Written as two interpolation matrices, {@code out = R_h · x · R_wᵀ},
 * so it is exact, batched and differentiable.
 */
public final class Resize {

    private Resize() {}

    /** {@code x [..., h, w]} → {@code [..., outH, outW]}. */
    public static NDArray bilinear(NDArray x, int outH, int outW) {
        Shape s = x.getShape();
        int d = s.dimension();
        int h = (int) s.get(d - 2);
        int w = (int) s.get(d - 1);
        if (h == outH && w == outW) {
            return x;
        }
        NDManager m = x.getManager();
        NDArray rw = m.create(matrix(w, outW), new Shape(outW, w)).transpose(); // [w, outW]
        NDArray rh = m.create(matrix(h, outH), new Shape(outH, h));
        return rh.matMul(x.matMul(rw));
    }

    /** Row i: the weights of the source pixels of output pixel i (half-pixel centres, clamped at 0). */
    static float[] matrix(int in, int out) {
        float[] r = new float[out * in];
        double scale = (double) in / out;
        for (int i = 0; i < out; i++) {
            double src = Math.max((i + 0.5) * scale - 0.5, 0);
            int i0 = Math.min((int) Math.floor(src), in - 1);
            int i1 = Math.min(i0 + 1, in - 1);
            double f = src - i0;
            r[i * in + i0] += (float) (1 - f);
            r[i * in + i1] += (float) f;
        }
        return r;
    }
}
