package org.peft4j.data;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.IntUnaryOperator;
import java.util.stream.IntStream;
import java.util.zip.GZIPOutputStream;

/** Test fixtures: IDX files and small in-memory datasets. */
public final class TestImages {
    private TestImages() {
    }

    /** IDX bytes: magic, big-endian dims, then data. */
    static byte[] idx(int magic, int[] dims, byte[] data) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(magic);
        for (int d : dims) {
            out.writeInt(d);
        }
        out.write(data);
        return bytes.toByteArray();
    }

    static void write(Path file, byte[] content, boolean gzip) throws IOException {
        try (OutputStream out = gzip ? new GZIPOutputStream(Files.newOutputStream(file)) : Files.newOutputStream(file)) {
            out.write(content);
        }
    }

    /** Writes {prefix}-images-idx3-ubyte[.gz] and labels: image i is filled with value 10*i+y, label i % 10. */
    public static void writeFashionMnist(Path dir, String prefix, int count, int rows, int cols, boolean gzip)
            throws IOException {
        byte[] pixels = new byte[count * rows * cols];
        for (int i = 0; i < count; i++) {
            for (int y = 0; y < rows; y++) {
                for (int x = 0; x < cols; x++) {
                    pixels[(i * rows + y) * cols + x] = (byte) (10 * i + y);
                }
            }
        }
        byte[] labels = new byte[count];
        for (int i = 0; i < count; i++) {
            labels[i] = (byte) (i % 10);
        }
        String suffix = gzip ? ".gz" : "";
        write(dir.resolve(prefix + "-images-idx3-ubyte" + suffix),
                idx(IdxReader.IMAGES_MAGIC, new int[] {count, rows, cols}, pixels), gzip);
        write(dir.resolve(prefix + "-labels-idx1-ubyte" + suffix),
                idx(IdxReader.LABELS_MAGIC, new int[] {count}, labels), gzip);
    }

    /** size examples of 1x1 gray images whose pixel is the index (mod 256), label = labelOf(index). */
    static ImageDataset indexed(int size, int numClasses, IntUnaryOperator labelOf) {
        List<String> classes = IntStream.range(0, numClasses).mapToObj(c -> "class" + c).toList();
        return new ImageDataset() {
            @Override
            public String name() {
                return "indexed";
            }

            @Override
            public int size() {
                return size;
            }

            @Override
            public List<String> classes() {
                return classes;
            }

            @Override
            public int label(int index) {
                return labelOf.applyAsInt(index);
            }

            @Override
            public RawImage image(int index) {
                return new RawImage(1, 1, 1, new byte[] {(byte) index});
            }
        };
    }
}
