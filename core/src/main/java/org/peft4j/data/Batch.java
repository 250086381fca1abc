package org.peft4j.data;

/** Model-ready examples: pixels NCHW (N = size), labels[n] the class of example n. */
public record Batch(float[] pixels, int[] labels, int size, int channels, int height, int width) {
    public Batch {
        if (labels.length != size || pixels.length != (long) size * channels * height * width) {
            throw new IllegalArgumentException("batch arrays do not match shape " + size + "x" + channels + "x"
                    + height + "x" + width + ": " + pixels.length + " pixels, " + labels.length + " labels");
        }
    }
}
