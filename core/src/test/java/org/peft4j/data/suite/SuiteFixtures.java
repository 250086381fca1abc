package org.peft4j.data.suite;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import org.peft4j.data.RawImage;

/** Test helpers: a tiny Fashion-MNIST whose images say where they came from, and pixel measurements. */
final class SuiteFixtures {
    static final byte TRAIN_FILE = 1;
    static final byte TEST_FILE = 2;

    private SuiteFixtures() {
    }

    /**
     * Writes train-* (perClassTrain images of each of the 10 classes) and t10k-* IDX files, 28x28. Image i has
     * label i % 10; its first pixels are the file (TRAIN_FILE or TEST_FILE) and i (two bytes, big-endian), the
     * rest a pattern, so every image of both files is different and traceable.
     */
    static void writeFashionMnist(Path dir, int perClassTrain, int perClassTest) throws IOException {
        writeIdxPair(dir, "train", TRAIN_FILE, 10 * perClassTrain);
        writeIdxPair(dir, "t10k", TEST_FILE, 10 * perClassTest);
    }

    private static void writeIdxPair(Path dir, String prefix, byte file, int count) throws IOException {
        int n = Canvas.SIZE * Canvas.SIZE;
        byte[] pixels = new byte[count * n];
        byte[] labels = new byte[count];
        for (int i = 0; i < count; i++) {
            labels[i] = (byte) (i % 10);
            pixels[i * n] = file;
            pixels[i * n + 1] = (byte) (i >> 8);
            pixels[i * n + 2] = (byte) i;
            for (int p = 3; p < n; p++) {
                pixels[i * n + p] = (byte) (p * 7 + i * 13);
            }
        }
        writeIdx(dir.resolve(prefix + "-images-idx3-ubyte"), 2051, new int[] {count, Canvas.SIZE, Canvas.SIZE},
                pixels);
        writeIdx(dir.resolve(prefix + "-labels-idx1-ubyte"), 2049, new int[] {count}, labels);
    }

    private static void writeIdx(Path file, int magic, int[] dims, byte[] data) throws IOException {
        try (OutputStream raw = Files.newOutputStream(file); DataOutputStream out = new DataOutputStream(raw)) {
            out.writeInt(magic);
            for (int d : dims) {
                out.writeInt(d);
            }
            out.write(data);
        }
    }

    /** Pixel values in [0, 1], row-major. */
    static double[] gray(RawImage image) {
        double[] v = new double[image.width() * image.height()];
        for (int y = 0; y < image.height(); y++) {
            for (int x = 0; x < image.width(); x++) {
                v[y * image.width() + x] = image.get(x, y, 0) / 255.0;
            }
        }
        return v;
    }

    static double median(double[] v) {
        double[] sorted = v.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    /** Pixels brighter than the background (the median) by more than delta. */
    static boolean[] bright(double[] v, double delta) {
        double threshold = median(v) + delta;
        boolean[] mask = new boolean[v.length];
        for (int i = 0; i < v.length; i++) {
            mask[i] = v[i] > threshold;
        }
        return mask;
    }

    /** Sizes of the 4-connected components of the mask on a size x size grid. */
    static int[] componentSizes(boolean[] mask, int size) {
        int[] labels = componentLabels(mask, size);
        int[] sizes = new int[mask.length];
        int count = 0;
        for (int label : labels) {
            if (label >= 0) {
                sizes[label]++;
                count = Math.max(count, label + 1);
            }
        }
        return Arrays.copyOf(sizes, count);
    }

    /** For each pixel, its 4-connected component of the mask (0, 1, ...), or -1 off the mask. */
    static int[] componentLabels(boolean[] mask, int size) {
        int[] labels = new int[mask.length];
        Arrays.fill(labels, -1);
        int count = 0;
        Deque<Integer> stack = new ArrayDeque<>();
        for (int start = 0; start < mask.length; start++) {
            if (!mask[start] || labels[start] >= 0) {
                continue;
            }
            labels[start] = count;
            stack.push(start);
            while (!stack.isEmpty()) {
                int p = stack.pop();
                int x = p % size;
                int y = p / size;
                int[] neighbours = {x > 0 ? p - 1 : -1, x < size - 1 ? p + 1 : -1, y > 0 ? p - size : -1,
                    y < size - 1 ? p + size : -1};
                for (int q : neighbours) {
                    if (q >= 0 && mask[q] && labels[q] < 0) {
                        labels[q] = count;
                        stack.push(q);
                    }
                }
            }
            count++;
        }
        return labels;
    }
}
