package org.peft4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ImageTransformTest {
    private static final float EPS = 1e-6f;

    @Test
    void bilinearUpsamplingUsesHalfPixelCentres() {
        // 2x2 gray [[0, 0.2], [0.4, 0.8]] -> 4x4. Output pixel centres map to source -0.25 (clamped to 0),
        // 0.25, 0.75, 1.25 (clamped neighbour), so each row reads [a, .75a+.25b, .25a+.75b, b].
        RawImage img = new RawImage(2, 2, 1, new byte[] {0, 51, 102, (byte) 204});
        float[] out = new float[16];

        identity(4, 1).apply(img, out, 0);

        assertArrayEquals(new float[] {
            0f, 0.05f, 0.15f, 0.2f,
            0.1f, 0.1625f, 0.2875f, 0.35f,
            0.3f, 0.3875f, 0.5625f, 0.65f,
            0.4f, 0.5f, 0.7f, 0.8f}, out, EPS);
    }

    @Test
    void downsamplingByTwoAveragesNeighbours() {
        RawImage img = new RawImage(4, 1, 1, new byte[] {0, 102, (byte) 204, (byte) 255});
        float[] out = new float[4];
        ImageTransform.resize(new float[] {0f, 0.4f, 0.8f, 1f}, 4, 1, out, 1, 2, 1);
        assertArrayEquals(new float[] {0f, 0.2f, 0.9f, 0f}, out, EPS);

        // Non-square inputs are stretched to size x size: 4x1 -> 2x2 repeats the single row.
        float[] square = new float[4];
        identity(2, 1).apply(img, square, 0);
        assertArrayEquals(new float[] {0.2f, 0.9f, 0.2f, 0.9f}, square, EPS);
    }

    @Test
    void matchesTorchInterpolateOnMixedScales() {
        // 5x7 -> 3x11 (down in height, up in width). Reference: torch 2.11
        // F.interpolate(x, size=(3, 11), mode="bilinear", align_corners=False, antialias=False)
        // with x[i] = ((i * 37) % 256) / 255 in row-major order.
        float[] src = new float[5 * 7];
        for (int i = 0; i < src.length; i++) {
            src[i] = ((i * 37) % 256) / 255f;
        }
        float[] out = new float[3 * 11];

        ImageTransform.resize(src, 7, 5, out, 0, 11, 3);

        assertArrayEquals(new float[] {
            0.0039216f, 0.0698752f, 0.1622103f, 0.2545455f, 0.3468806f, 0.4392157f, 0.5315508f, 0.6238859f, 0.7162210f,
            0.8085561f, 0.8745098f,
            0.0235294f, 0.0894831f, 0.1818182f, 0.2741533f, 0.3664884f, 0.4588235f, 0.5511586f, 0.6434938f, 0.7358289f,
            0.8281640f, 0.8941176f,
            0.0431373f, 0.1090909f, 0.2014260f, 0.2937611f, 0.3860963f, 0.4784314f, 0.5707665f, 0.6631016f, 0.7554367f,
            0.8477718f, 0.9137255f}, out, 1e-6f);
    }

    @Test
    void sameSizeIsAnExactCopy() {
        byte[] pixels = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        float[] out = new float[9];
        identity(3, 1).apply(new RawImage(3, 3, 1, pixels), out, 0);
        for (int i = 0; i < 9; i++) {
            assertEquals(pixels[i] / 255f, out[i]);
        }
    }

    @Test
    void grayToRgbReplicatesThenNormalisesPerChannel() {
        RawImage img = new RawImage(1, 1, 1, new byte[] {(byte) 255});
        ImageTransform t = new ImageTransform(1, 3, new float[] {0.5f, 0f, 0.25f}, new float[] {0.5f, 1f, 0.25f});
        float[] out = new float[5];

        t.apply(img, out, 2);

        assertArrayEquals(new float[] {0f, 0f, 1f, 1f, 3f}, out, EPS);
    }

    @Test
    void rgbToGrayUsesItu601Luma() {
        RawImage img = new RawImage(2, 1, 3, new byte[] {(byte) 255, 0, 0, 10, 20, 30});
        float[] out = new float[2];

        identity(1, 1).apply(new RawImage(1, 1, 3, new byte[] {10, 20, 30}), out, 0);
        assertEquals((0.299f * 10 + 0.587f * 20 + 0.114f * 30) / 255f, out[0], EPS);

        ImageTransform wide = new ImageTransform(2, 1, new float[] {0f}, new float[] {1f});
        float[] four = new float[4];
        wide.apply(img, four, 0);
        assertEquals(0.299f, four[0], EPS);
    }

    @Test
    void alphaIsDropped() {
        float[] rgb = new float[3];
        identity(1, 3).apply(new RawImage(1, 1, 4, new byte[] {51, 102, (byte) 204, 7}), rgb, 0);
        assertArrayEquals(new float[] {0.2f, 0.4f, 0.8f}, rgb, EPS);

        float[] gray = new float[1];
        identity(1, 1).apply(new RawImage(1, 1, 2, new byte[] {51, 0}), gray, 0);
        assertArrayEquals(new float[] {0.2f}, gray, EPS);
    }

    @Test
    void rejectsInconsistentSettings() {
        assertThrows(IllegalArgumentException.class, () -> new ImageTransform(0, 1, new float[1], new float[] {1}));
        assertThrows(IllegalArgumentException.class, () -> new ImageTransform(4, 2, new float[2], new float[] {1, 1}));
        assertThrows(IllegalArgumentException.class, () -> new ImageTransform(4, 3, new float[1], new float[] {1}));
        assertThrows(IllegalArgumentException.class, () -> new ImageTransform(4, 1, new float[1], new float[] {0}));
        assertThrows(IllegalArgumentException.class, () -> new RawImage(2, 2, 1, new byte[3]));
    }

    private static ImageTransform identity(int size, int channels) {
        float[] mean = new float[channels];
        float[] std = new float[channels];
        java.util.Arrays.fill(std, 1f);
        return new ImageTransform(size, channels, mean, std);
    }
}
