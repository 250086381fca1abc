package org.peft4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FashionMnistTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void readsPlainAndGzippedIdx(boolean gzip) throws IOException {
        TestImages.writeFashionMnist(dir, "train", 12, 3, 2, gzip);
        TestImages.writeFashionMnist(dir, "t10k", 4, 3, 2, gzip);

        ImageDataset train = FashionMnist.load(dir, true);
        ImageDataset test = FashionMnist.load(dir, false);

        assertEquals("fashion-mnist/train", train.name());
        assertEquals("fashion-mnist/test", test.name());
        assertEquals(12, train.size());
        assertEquals(4, test.size());
        assertEquals(FashionMnist.CLASSES, train.classes());
        assertEquals(1, train.label(11));
        RawImage image = train.image(5);
        assertEquals(2, image.width());
        assertEquals(3, image.height());
        assertEquals(1, image.channels());
        assertArrayEquals(new byte[] {50, 50, 51, 51, 52, 52}, image.pixels());
    }

    @Test
    void badMagicNamesTheFile() throws IOException {
        TestImages.writeFashionMnist(dir, "train", 2, 2, 2, false);
        Path images = dir.resolve("train-images-idx3-ubyte");
        TestImages.write(images, TestImages.idx(2049, new int[] {2, 2, 2}, new byte[8]), false);

        DataException e = assertThrows(DataException.class, () -> FashionMnist.load(dir, true));
        assertTrue(e.getMessage().contains(images.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("magic"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void truncatedDataNamesTheFile(boolean gzip) throws IOException {
        TestImages.writeFashionMnist(dir, "train", 3, 2, 2, gzip);
        Path images = dir.resolve("train-images-idx3-ubyte" + (gzip ? ".gz" : ""));
        TestImages.write(images, TestImages.idx(2051, new int[] {3, 2, 2}, new byte[11]), gzip);

        DataException e = assertThrows(DataException.class, () -> FashionMnist.load(dir, true));
        assertTrue(e.getMessage().contains(images.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void truncatedGzipStreamNamesTheFile() throws IOException {
        TestImages.writeFashionMnist(dir, "train", 50, 8, 8, true);
        Path images = dir.resolve("train-images-idx3-ubyte.gz");
        byte[] whole = Files.readAllBytes(images);
        Files.write(images, Arrays.copyOf(whole, whole.length / 2));

        DataException e = assertThrows(DataException.class, () -> FashionMnist.load(dir, true));
        assertTrue(e.getMessage().contains(images.toString()), e.getMessage());
    }

    @Test
    void truncatedHeaderNamesTheFile() throws IOException {
        TestImages.writeFashionMnist(dir, "train", 3, 2, 2, false);
        Path labels = dir.resolve("train-labels-idx1-ubyte");
        Files.write(labels, new byte[] {0, 0, 8, 1, 0, 0});

        DataException e = assertThrows(DataException.class, () -> FashionMnist.load(dir, true));
        assertTrue(e.getMessage().contains(labels.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("truncated header"), e.getMessage());
    }

    @Test
    void countMismatchNamesBothFiles() throws IOException {
        TestImages.writeFashionMnist(dir, "train", 3, 2, 2, false);
        Path labels = dir.resolve("train-labels-idx1-ubyte");
        TestImages.write(labels, TestImages.idx(2049, new int[] {2}, new byte[] {0, 1}), false);

        DataException e = assertThrows(DataException.class, () -> FashionMnist.load(dir, true));
        assertTrue(e.getMessage().contains(labels.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("train-images-idx3-ubyte"), e.getMessage());
        assertTrue(e.getMessage().contains("3 images") && e.getMessage().contains("2 labels"), e.getMessage());
    }

    @Test
    void labelOutOfRangeIsRejected() throws IOException {
        TestImages.writeFashionMnist(dir, "train", 2, 2, 2, false);
        Path labels = dir.resolve("train-labels-idx1-ubyte");
        TestImages.write(labels, TestImages.idx(2049, new int[] {2}, new byte[] {0, 10}), false);

        DataException e = assertThrows(DataException.class, () -> FashionMnist.load(dir, true));
        assertTrue(e.getMessage().contains(labels.toString()) && e.getMessage().contains("label 10"), e.getMessage());
    }

    @Test
    void trailingBytesAreRejected() throws IOException {
        TestImages.writeFashionMnist(dir, "train", 2, 2, 2, false);
        Path images = dir.resolve("train-images-idx3-ubyte");
        TestImages.write(images, TestImages.idx(2051, new int[] {2, 2, 2}, new byte[9]), false);

        DataException e = assertThrows(DataException.class, () -> FashionMnist.load(dir, true));
        assertTrue(e.getMessage().contains(images.toString()), e.getMessage());
    }

    @Test
    void missingDirectoryExplainsHowToInstall() {
        DataException e = assertThrows(DataException.class, () -> FashionMnist.load(dir.resolve("nope"), true));
        assertTrue(e.getMessage().contains("apt-get install dataset-fashion-mnist"), e.getMessage());
    }

    @Test
    void missingFileIsNamed() {
        DataException e = assertThrows(DataException.class, () -> FashionMnist.load(dir, false));
        assertTrue(e.getMessage().contains(dir.resolve("t10k-images-idx3-ubyte.gz").toString()), e.getMessage());
    }

    @Test
    void realFashionMnistTestSetIfInstalled() {
        assumeTrue(Files.exists(FashionMnist.DEFAULT_DIR.resolve("t10k-images-idx3-ubyte.gz")));
        ImageDataset test = FashionMnist.load(FashionMnist.DEFAULT_DIR, false);

        assertEquals(10_000, test.size());
        int[] perClass = new int[10];
        for (int i = 0; i < test.size(); i++) {
            perClass[test.label(i)]++;
        }
        int[] thousandEach = new int[10];
        Arrays.fill(thousandEach, 1000);
        assertArrayEquals(thousandEach, perClass);
        RawImage first = test.image(0);
        assertEquals(28, first.width());
        assertEquals(28, first.height());
        assertEquals(9, test.label(0)); // the first t10k image is an ankle boot
    }
}
