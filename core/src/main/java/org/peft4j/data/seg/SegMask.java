package org.peft4j.data.seg;

/** A segmentation mask: one class id (0..255) per pixel, row-major; 0 is the background. */
public record SegMask(int width, int height, byte[] ids) {
    public SegMask {
        if (width <= 0 || height <= 0 || ids == null || ids.length != (long) width * height) {
            throw new IllegalArgumentException("a " + width + "x" + height + " mask needs " + ((long) width * height)
                    + " ids, got " + (ids == null ? "none" : ids.length));
        }
    }

    public int get(int x, int y) {
        return ids[y * width + x] & 0xFF;
    }
}
