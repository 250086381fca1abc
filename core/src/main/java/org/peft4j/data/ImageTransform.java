package org.peft4j.data;

import java.util.Arrays;

/**
 * How a batch's images become model input: resize to size x size, convert channels, scale to [0,1], normalise.
 * Resizing is bilinear with half-pixel centres and no antialiasing (torch interpolate, align_corners=False,
 * antialias=False); it runs on floats, so no rounding happens between the steps. Non-square images are
 * stretched. Gray to RGB replicates the channel; RGB to gray is ITU-R 601 luma (PIL "L"); alpha is dropped.
 */
public record ImageTransform(int size, int channels, float[] mean, float[] std) {
    public ImageTransform {
        if (size <= 0) {
            throw new IllegalArgumentException("size must be positive, got " + size);
        }
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("channels must be 1 or 3, got " + channels);
        }
        if (mean.length != channels || std.length != channels) {
            throw new IllegalArgumentException("need one mean and one std per channel (" + channels + "), got "
                    + mean.length + " and " + std.length);
        }
        for (float s : std) {
            if (!(s > 0)) {
                throw new IllegalArgumentException("std must be positive, got " + Arrays.toString(std));
            }
        }
        mean = mean.clone();
        std = std.clone();
    }

    @Override
    public float[] mean() {
        return mean.clone();
    }

    @Override
    public float[] std() {
        return std.clone();
    }

    /** Floats written per image: channels * size * size. */
    public int floatsPerImage() {
        return channels * size * size;
    }

    /** Writes channels*size*size floats to dst[offset...], CHW order. */
    public void apply(RawImage img, float[] dst, int offset) {
        int plane = size * size;
        float[] source = new float[img.width() * img.height()];
        boolean replicateGray = img.channels() <= 2 && channels == 3;
        for (int c = 0; c < channels; c++) {
            if (replicateGray && c > 0) {
                // Gray to RGB: every channel is the same resized plane, so resize once and copy it.
                System.arraycopy(dst, offset, dst, offset + c * plane, plane);
            } else {
                sourcePlane(img, c, source);
                resize(source, img.width(), img.height(), dst, offset + c * plane, size, size);
            }
        }
        for (int c = 0; c < channels; c++) {
            float m = mean[c];
            float s = std[c];
            for (int i = offset + c * plane, end = i + plane; i < end; i++) {
                dst[i] = (dst[i] - m) / s;
            }
        }
    }

    /** Output channel c of img at its own resolution, scaled to [0,1]. */
    private void sourcePlane(RawImage img, int c, float[] out) {
        byte[] px = img.pixels();
        int stride = img.channels();
        boolean gray = stride <= 2; // 1 = gray, 2 = gray + alpha
        int n = img.width() * img.height();
        for (int i = 0; i < n; i++) {
            int base = i * stride;
            float value;
            if (gray) {
                value = px[base] & 0xFF;
            } else if (channels == 3) {
                value = px[base + c] & 0xFF;
            } else {
                value = 0.299f * (px[base] & 0xFF) + 0.587f * (px[base + 1] & 0xFF) + 0.114f * (px[base + 2] & 0xFF);
            }
            out[i] = value / 255f;
        }
    }

    /** Bilinear, half-pixel centres, edges clamped (torch's upsample_bilinear2d with align_corners=False). */
    static void resize(float[] src, int srcW, int srcH, float[] dst, int offset, int dstW, int dstH) {
        if (srcW == dstW && srcH == dstH) {
            System.arraycopy(src, 0, dst, offset, srcW * srcH);
            return;
        }
        int[] x0 = new int[dstW];
        int[] x1 = new int[dstW];
        float[] wx = new float[dstW];
        sampling(srcW, dstW, x0, x1, wx);
        int[] y0 = new int[dstH];
        int[] y1 = new int[dstH];
        float[] wy = new float[dstH];
        sampling(srcH, dstH, y0, y1, wy);
        for (int y = 0; y < dstH; y++) {
            int row0 = y0[y] * srcW;
            int row1 = y1[y] * srcW;
            float fy = wy[y];
            for (int x = 0; x < dstW; x++) {
                float top = src[row0 + x0[x]] + wx[x] * (src[row0 + x1[x]] - src[row0 + x0[x]]);
                float bottom = src[row1 + x0[x]] + wx[x] * (src[row1 + x1[x]] - src[row1 + x0[x]]);
                dst[offset + y * dstW + x] = top + fy * (bottom - top);
            }
        }
    }

    /** For each output coordinate: the two source neighbours and the weight of the second. */
    private static void sampling(int srcSize, int dstSize, int[] lo, int[] hi, float[] weight) {
        double scale = (double) srcSize / dstSize;
        for (int d = 0; d < dstSize; d++) {
            double s = Math.max(0.0, (d + 0.5) * scale - 0.5);
            int i0 = Math.min((int) s, srcSize - 1);
            lo[d] = i0;
            hi[d] = Math.min(i0 + 1, srcSize - 1);
            weight[d] = (float) (s - i0);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ImageTransform t && size == t.size && channels == t.channels
                && Arrays.equals(mean, t.mean) && Arrays.equals(std, t.std);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * size + channels) + 31 * Arrays.hashCode(mean) + Arrays.hashCode(std);
    }

    @Override
    public String toString() {
        return "ImageTransform[size=" + size + ", channels=" + channels + ", mean=" + Arrays.toString(mean)
                + ", std=" + Arrays.toString(std) + "]";
    }
}
