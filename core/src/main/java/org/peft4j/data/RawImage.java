package org.peft4j.data;

/** One decoded image, pixels interleaved HWC, unsigned bytes. Channels: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA. */
public record RawImage(int width, int height, int channels, byte[] pixels) {
    public RawImage {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + width + "x" + height);
        }
        if (channels < 1 || channels > 4) {
            throw new IllegalArgumentException("channels must be 1..4, got " + channels);
        }
        if (pixels == null || pixels.length != (long) width * height * channels) {
            throw new IllegalArgumentException("expected " + ((long) width * height * channels) + " bytes for "
                    + width + "x" + height + "x" + channels + ", got " + (pixels == null ? "null" : pixels.length));
        }
    }

    /** Pixel value 0..255 at (x, y), channel c. */
    public int get(int x, int y, int c) {
        return pixels[(y * width + x) * channels + c] & 0xFF;
    }
}
