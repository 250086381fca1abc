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
        int[] i0 = new int[out];
        int[] i1 = new int[out];
        double[] f = new double[out];
        taps(in, out, i0, i1, f);
        for (int i = 0; i < out; i++) {
            r[i * in + i0[i]] += (float) (1 - f[i]);
            r[i * in + i1[i]] += (float) f[i];
        }
        return r;
    }

    /**
     * The two source pixels {@code i0[i]}, {@code i1[i]} of output pixel i and the weight {@code f[i]}
     * of the second (half-pixel centres, clamped at the edges), for resizing {@code in} to {@code out}.
     */
    public static void taps(int in, int out, int[] i0, int[] i1, double[] f) {
        double scale = (double) in / out;
        for (int i = 0; i < out; i++) {
            double src = Math.max((i + 0.5) * scale - 0.5, 0);
            i0[i] = Math.min((int) Math.floor(src), in - 1);
            i1[i] = Math.min(i0[i] + 1, in - 1);
            f[i] = src - i0[i];
        }
    }
}
