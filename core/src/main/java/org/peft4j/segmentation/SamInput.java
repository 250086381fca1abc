package org.peft4j.segmentation;

import org.peft4j.data.RawImage;
import org.peft4j.data.seg.SegMask;
import org.peft4j.models.sam.Resize;
import org.peft4j.models.sam.SamConfig;

/**
 * One image as SAM takes it, prepared on the CPU side for a batch: resized so the longer side is the
 * model input (bilinear, half-pixel centres, aspect kept, as {@code SamPredictor}), normalised,
 * zero-padded at the bottom and right; its mask resized the same way by nearest neighbour, to the
 * resized frame {@code inputH × inputW} (the padding has no mask).
 *
 * @param pixels {@code [3, size, size]} normalised, row-major
 * @param mask   class ids at {@code inputH × inputW} (null without a mask)
 */
public record SamInput(float[] pixels, SegMask mask, int size, int inputH, int inputW, int originalH, int originalW) {

    public static SamInput of(RawImage image, SegMask mask, SamConfig config) {
        int size = config.encoder().imgSize();
        int h = image.height();
        int w = image.width();
        if (mask != null && (mask.width() != w || mask.height() != h)) {
            throw new IllegalArgumentException("mask is " + mask.width() + "x" + mask.height() + " but its image is "
                    + w + "x" + h);
        }
        double scale = (double) size / Math.max(h, w);
        int ih = Math.max(1, (int) (h * scale + 0.5));
        int iw = Math.max(1, (int) (w * scale + 0.5));
        float[] mean = config.pixelMean();
        float[] std = config.pixelStd();
        float[] px = new float[3 * size * size];
        int[] x0 = new int[iw];
        int[] x1 = new int[iw];
        float[] fx = weights(w, iw, x0, x1);
        int[] y0 = new int[ih];
        int[] y1 = new int[ih];
        float[] fy = weights(h, ih, y0, y1);
        for (int c = 0; c < 3; c++) {
            int src = image.channels() >= 3 ? c : 0;
            for (int y = 0; y < ih; y++) {
                for (int x = 0; x < iw; x++) {
                    float top = image.get(x0[x], y0[y], src) * (1 - fx[x]) + image.get(x1[x], y0[y], src) * fx[x];
                    float bottom = image.get(x0[x], y1[y], src) * (1 - fx[x]) + image.get(x1[x], y1[y], src) * fx[x];
                    px[(c * size + y) * size + x] = (top * (1 - fy[y]) + bottom * fy[y] - mean[c]) / std[c];
                }
            }
        }
        SegMask resized = null;
        if (mask != null) {
            if (ih == h && iw == w) {
                resized = mask;
            } else {
                byte[] ids = new byte[ih * iw];
                for (int y = 0; y < ih; y++) {
                    int sy = Math.min(h - 1, (int) ((y + 0.5) / scale));
                    for (int x = 0; x < iw; x++) {
                        ids[y * iw + x] = (byte) mask.get(Math.min(w - 1, (int) ((x + 0.5) / scale)), sy);
                    }
                }
                resized = new SegMask(iw, ih, ids);
            }
        }
        return new SamInput(px, resized, size, ih, iw, h, w);
    }

    /** {@link Resize#taps}, the weights as floats. */
    private static float[] weights(int in, int out, int[] i0, int[] i1) {
        double[] f = new double[out];
        Resize.taps(in, out, i0, i1, f);
        float[] w = new float[out];
        for (int i = 0; i < out; i++) {
            w[i] = (float) f[i];
        }
        return w;
    }

    /** Scale from original pixels to the resized frame, per axis. */
    public float scaleX() {
        return (float) inputW / originalW;
    }

    public float scaleY() {
        return (float) inputH / originalH;
    }
}
