package org.peft4j.models.vit;

/**
 * Resizes a ViT position-embedding grid when a checkpoint meets a different image size.
 *
 * <p>Written in Java because DJL's {@code interpolation} ignores align_corners and forces
 * antialiasing (DJL-NOTES); this reproduces PyTorch's {@code F.interpolate(mode="bicubic",
 * align_corners=False)}, which transformers' {@code interpolate_pos_encoding} and timm's
 * {@code resample_abs_pos_embed} use. It runs once at load time on a small grid.
 */
public final class PositionEmbeddings {

    private static final double A = -0.75; // PyTorch's cubic convolution coefficient

    private PositionEmbeddings() {}

    /**
     * {@code embed} is {@code [1 + oldGrid², dim]} row-major (class token first); returns
     * {@code [1 + newGrid², dim]} with the class-token row kept as is.
     */
    public static float[] resize(float[] embed, int dim, int oldGrid, int newGrid) {
        if (embed.length != (1 + oldGrid * oldGrid) * dim) {
            throw new IllegalArgumentException("position embedding has " + embed.length
                    + " values, expected (1 + " + oldGrid + "²) × " + dim);
        }
        float[] out = new float[(1 + newGrid * newGrid) * dim];
        System.arraycopy(embed, 0, out, 0, dim);
        double scale = oldGrid / (double) newGrid;
        for (int oy = 0; oy < newGrid; oy++) {
            double sy = (oy + 0.5) * scale - 0.5;
            int y0 = (int) Math.floor(sy);
            double[] wy = weights(sy - y0);
            for (int ox = 0; ox < newGrid; ox++) {
                double sx = (ox + 0.5) * scale - 0.5;
                int x0 = (int) Math.floor(sx);
                double[] wx = weights(sx - x0);
                int dst = (1 + oy * newGrid + ox) * dim;
                for (int c = 0; c < dim; c++) {
                    double acc = 0;
                    for (int i = 0; i < 4; i++) {
                        int yy = clamp(y0 - 1 + i, oldGrid);
                        double row = 0;
                        for (int j = 0; j < 4; j++) {
                            int xx = clamp(x0 - 1 + j, oldGrid);
                            row += wx[j] * embed[(1 + yy * oldGrid + xx) * dim + c];
                        }
                        acc += wy[i] * row;
                    }
                    out[dst + c] = (float) acc;
                }
            }
        }
        return out;
    }

    private static int clamp(int i, int n) {
        return Math.max(0, Math.min(n - 1, i));
    }

    /** Cubic convolution weights of the four taps around a point at fraction {@code t}. */
    private static double[] weights(double t) {
        return new double[] {
            cubicFar(t + 1), cubicNear(t), cubicNear(1 - t), cubicFar(2 - t)
        };
    }

    private static double cubicNear(double x) {
        return ((A + 2) * x - (A + 3)) * x * x + 1;
    }

    private static double cubicFar(double x) {
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
    }
}
