package org.peft4j.data.seg;

import org.peft4j.data.RawImage;

import java.awt.Shape;
import java.awt.geom.Rectangle2D;
import java.util.Random;

/**
 * A float RGB canvas (0..1 per channel) with a class-id mask beside it, for the generated
 * segmentation domains: shapes are filled per pixel centre ({@link Shape#contains}), so image and
 * mask agree exactly; textures come from value noise. Java2D's anti-aliased drawing would blur the
 * mask's edges and is not used for that reason.
 */
final class Raster {

    final int size;
    final float[] r;
    final float[] g;
    final float[] b;
    final byte[] mask;

    Raster(int size) {
        this.size = size;
        r = new float[size * size];
        g = new float[size * size];
        b = new float[size * size];
        mask = new byte[size * size];
    }

    /** Every pixel centre inside {@code shape}: colour (times {@code 1 + texture·(noise − ½)}) and, when {@code classId ≥ 0}, the class. */
    void fill(Shape shape, float[] rgb, float[] texture, float textureAmount, int classId) {
        Rectangle2D box = shape.getBounds2D();
        int x0 = Math.max(0, (int) Math.floor(box.getMinX()));
        int y0 = Math.max(0, (int) Math.floor(box.getMinY()));
        int x1 = Math.min(size - 1, (int) Math.ceil(box.getMaxX()));
        int y1 = Math.min(size - 1, (int) Math.ceil(box.getMaxY()));
        for (int y = y0; y <= y1; y++) {
            for (int x = x0; x <= x1; x++) {
                if (shape.contains(x + 0.5, y + 0.5)) {
                    int i = y * size + x;
                    float t = texture == null ? 1f : 1f + textureAmount * (texture[i] - 0.5f);
                    r[i] = rgb[0] * t;
                    g[i] = rgb[1] * t;
                    b[i] = rgb[2] * t;
                    if (classId >= 0) {
                        mask[i] = (byte) classId;
                    }
                }
            }
        }
    }

    /** The whole canvas: {@code low + (high − low)·noise} per channel. */
    void background(float[] low, float[] high, float[] noise) {
        for (int i = 0; i < r.length; i++) {
            float t = noise[i];
            r[i] = low[0] + (high[0] - low[0]) * t;
            g[i] = low[1] + (high[1] - low[1]) * t;
            b[i] = low[2] + (high[2] - low[2]) * t;
        }
    }

    /** Gaussian pixel noise of standard deviation {@code sigma}, per channel. */
    void grain(Random random, float sigma) {
        for (int i = 0; i < r.length; i++) {
            r[i] += (float) random.nextGaussian() * sigma;
            g[i] += (float) random.nextGaussian() * sigma;
            b[i] += (float) random.nextGaussian() * sigma;
        }
    }

    /** A colour cast: each channel scaled, then mixed towards {@code haze} by {@code amount}. */
    void cast(float[] scale, float[] haze, float amount) {
        for (int i = 0; i < r.length; i++) {
            r[i] = r[i] * scale[0] * (1 - amount) + haze[0] * amount;
            g[i] = g[i] * scale[1] * (1 - amount) + haze[1] * amount;
            b[i] = b[i] * scale[2] * (1 - amount) + haze[2] * amount;
        }
    }

    RawImage image() {
        byte[] px = new byte[size * size * 3];
        for (int i = 0; i < r.length; i++) {
            px[3 * i] = (byte) Math.round(255 * clamp(r[i]));
            px[3 * i + 1] = (byte) Math.round(255 * clamp(g[i]));
            px[3 * i + 2] = (byte) Math.round(255 * clamp(b[i]));
        }
        return new RawImage(size, size, 3, px);
    }

    SegMask segMask() {
        return new SegMask(size, size, mask.clone());
    }

    private static float clamp(float v) {
        return v < 0 ? 0 : v > 1 ? 1 : v;
    }

    /**
     * Value noise in [0,1] on a {@code size²} grid: random values on a lattice every {@code cell}
     * pixels, smoothstep-interpolated; {@code octaves} halvings of the cell, each at half the weight.
     */
    static float[] noise(Random random, int size, double cell, int octaves) {
        float[] out = new float[size * size];
        double weight = 1;
        double total = 0;
        for (int o = 0; o < octaves; o++) {
            double c = Math.max(1, cell / (1 << o));
            int n = (int) Math.ceil(size / c) + 2;
            float[] lattice = new float[n * n];
            for (int i = 0; i < lattice.length; i++) {
                lattice[i] = random.nextFloat();
            }
            for (int y = 0; y < size; y++) {
                double fy = y / c;
                int iy = (int) fy;
                double ty = smooth(fy - iy);
                for (int x = 0; x < size; x++) {
                    double fx = x / c;
                    int ix = (int) fx;
                    double tx = smooth(fx - ix);
                    double top = lattice[iy * n + ix] * (1 - tx) + lattice[iy * n + ix + 1] * tx;
                    double bottom = lattice[(iy + 1) * n + ix] * (1 - tx) + lattice[(iy + 1) * n + ix + 1] * tx;
                    out[y * size + x] += (float) (weight * (top * (1 - ty) + bottom * ty));
                }
            }
            total += weight;
            weight /= 2;
        }
        for (int i = 0; i < out.length; i++) {
            out[i] /= (float) total;
        }
        return out;
    }

    private static double smooth(double t) {
        return t * t * (3 - 2 * t);
    }
}
