package org.peft4j.data.suite;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.peft4j.data.FashionMnist;
import org.peft4j.data.ImageDataset;
import org.peft4j.data.RawImage;

/** What every task promises: sizes, balance, determinism, disjoint splits, real images. */
class SuiteTest {
    /** Small enough to draw every image in a test, odd enough to exercise "as balanced as divisible". */
    private static final SuiteSizes SMALL = new SuiteSizes(103, 27, 77);

    @TempDir
    static Path fashionMnistDir;

    @BeforeAll
    static void writeTinyFashionMnist() throws IOException {
        SuiteFixtures.writeFashionMnist(fashionMnistDir, 30, 20);
    }

    static List<String> taskNames() {
        return Suite.tasks().stream().map(SuiteTask::name).toList();
    }

    private static SuiteData load(String name, SuiteSizes sizes) {
        return Suite.load(name, sizes, fashionMnistDir);
    }

    @Test
    void tasksComeInAFixedOrderByGroup() {
        assertEquals(List.of("fashion-mnist", "glyph-digits", "font-style", "textures", "cells", "dsprites-location",
                "dsprites-orientation", "count", "distance"), taskNames());
        List<TaskGroup> groups = Suite.tasks().stream().map(SuiteTask::group).toList();
        for (int i = 1; i < groups.size(); i++) {
            assertTrue(groups.get(i - 1).compareTo(groups.get(i)) <= 0, "groups out of order: " + groups);
        }
        assertEquals(List.of(3, 2, 4), Arrays.stream(TaskGroup.values())
                .map(g -> (int) groups.stream().filter(g::equals).count()).toList());
        assertEquals("specialized", TaskGroup.SPECIALIZED.label());
        assertEquals(List.of("Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"), Suite.task("fashion-mnist").classes());
        assertEquals(6, Suite.task("count").classes().size());
        for (SuiteTask task : Suite.tasks()) {
            assertTrue(task.classes().size() >= 4, task.name());
            assertFalse(task.description().isBlank(), task.name());
        }
    }

    @Test
    void unknownTaskListsTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Suite.task("svhn"));
        assertTrue(e.getMessage().contains("svhn") && e.getMessage().contains("glyph-digits")
                && e.getMessage().contains("distance"), e.getMessage());
    }

    @Test
    void sizesAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> new SuiteSizes(0, 200, 2000));
        assertThrows(IllegalArgumentException.class, () -> new SuiteSizes(800, -1, 2000));
        IllegalArgumentException fewerThanClasses = assertThrows(IllegalArgumentException.class,
                () -> load("glyph-digits", new SuiteSizes(800, 9, 2000)));
        String message = fewerThanClasses.getMessage();
        assertTrue(message.contains("val") && message.contains("10 classes"), message);
        IllegalArgumentException tooMany = assertThrows(IllegalArgumentException.class,
                () -> load("count", new SuiteSizes(800, 200, Suite.MAX_GENERATED_SPLIT + 1)));
        assertTrue(tooMany.getMessage().contains("suite:count/test"), tooMany.getMessage());
        // The fixture has 30 train images per class: 26 + 6 do not fit.
        IllegalArgumentException beyondData = assertThrows(IllegalArgumentException.class,
                () -> load("fashion-mnist", new SuiteSizes(130, 30, 75)));
        assertTrue(beyondData.getMessage().contains("Sandal") && beyondData.getMessage().contains("has 30"),
                beyondData.getMessage());
        assertThrows(IllegalArgumentException.class, () -> load("fashion-mnist", new SuiteSizes(100, 25, 101)));
    }

    @ParameterizedTest
    @MethodSource("taskNames")
    void splitsHaveTheirSizesAndExactClassBalance(String name) {
        SuiteData data = load(name, SMALL);
        assertSame(Suite.task(name), data.task());
        assertEquals(List.of(103, 27, 130, 77), List.of(data.train().size(), data.val().size(), data.trainval().size(),
                data.test().size()));
        for (ImageDataset split : List.of(data.train(), data.val(), data.trainval(), data.test())) {
            assertEquals(data.task().classes(), split.classes(), split.name());
            assertBalanced(split);
        }
        assertEquals("suite:" + name + "/test", data.test().name());
        if (!name.equals("fashion-mnist")) {
            SuiteData vtab = load(name, SuiteSizes.VTAB);
            assertEquals(List.of(800, 200, 1000, 2000), List.of(vtab.train().size(), vtab.val().size(),
                    vtab.trainval().size(), vtab.test().size()));
            for (ImageDataset split : List.of(vtab.train(), vtab.val(), vtab.test())) {
                assertBalanced(split);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("taskNames")
    void imagesAreGrayRealAndTheSameOnEveryLoad(String name) {
        SuiteData first = load(name, SMALL);
        SuiteData second = load(name, SMALL);
        for (int i = 0; i < SMALL.test(); i += 3) {
            RawImage image = first.test().image(i);
            assertEquals(List.of(28, 28, 1), List.of(image.width(), image.height(), image.channels()));
            assertArrayEquals(image.pixels(), second.test().image(i).pixels(), name + " test image " + i);
            int min = 255;
            int max = 0;
            for (byte b : image.pixels()) {
                min = Math.min(min, b & 0xFF);
                max = Math.max(max, b & 0xFF);
            }
            assertTrue(max - min >= 40, name + " test image " + i + " is nearly flat: " + min + ".." + max);
        }
        for (int i = 0; i < SMALL.train(); i += 7) {
            assertArrayEquals(first.train().image(i).pixels(), second.train().image(i).pixels(), name + " train " + i);
        }
    }

    @ParameterizedTest
    @MethodSource("taskNames")
    void trainvalIsTrainThenValAndNoImageIsInTwoSplits(String name) {
        SuiteData data = load(name, SMALL);
        Map<ByteBuffer, String> seen = new HashMap<>();
        for (ImageDataset split : List.of(data.train(), data.val(), data.test())) {
            for (int i = 0; i < split.size(); i++) {
                String where = split.name() + "[" + i + "]";
                String before = seen.put(ByteBuffer.wrap(split.image(i).pixels()), where);
                assertEquals(null, before, where + " repeats " + before);
            }
        }
        for (int i = 0; i < data.trainval().size(); i++) {
            boolean fromTrain = i < data.train().size();
            ImageDataset part = fromTrain ? data.train() : data.val();
            int j = fromTrain ? i : i - data.train().size();
            assertEquals(part.label(j), data.trainval().label(i));
            assertArrayEquals(part.image(j).pixels(), data.trainval().image(i).pixels());
        }
    }

    @Test
    void aSmallerSizeTakesAPrefixOfTheLargerOnesImages() {
        for (String name : List.of("glyph-digits", "fashion-mnist")) {
            // Val's label cycle continues train's, so val is a prefix only with the same train size.
            SuiteData small = load(name, new SuiteSizes(SMALL.train(), 10, 10));
            SuiteData smallerTrain = load(name, new SuiteSizes(10, 10, 10));
            SuiteData large = load(name, SMALL);
            for (int i = 0; i < 10; i++) {
                assertArrayEquals(large.train().image(i).pixels(), smallerTrain.train().image(i).pixels(), name);
                assertArrayEquals(large.val().image(i).pixels(), small.val().image(i).pixels(), name);
                assertArrayEquals(large.test().image(i).pixels(), small.test().image(i).pixels(), name);
            }
        }
    }

    @Test
    void fashionMnistTakesTrainAndValFromTheTrainFileAndTestFromT10k() {
        SuiteData data = load("fashion-mnist", SMALL);
        for (ImageDataset split : List.of(data.train(), data.val(), data.test())) {
            byte expectedFile = split == data.test() ? SuiteFixtures.TEST_FILE : SuiteFixtures.TRAIN_FILE;
            for (int i = 0; i < split.size(); i++) {
                byte[] pixels = split.image(i).pixels();
                int original = ((pixels[1] & 0xFF) << 8) | (pixels[2] & 0xFF);
                assertEquals(expectedFile, pixels[0], split.name() + "[" + i + "]");
                // The fixture's label is original % 10; the suite keeps classes 5..9 as 0..4.
                assertEquals(original % 10 - 5, split.label(i), split.name() + "[" + i + "]");
            }
        }
    }

    @Test
    void realFashionMnistAtVtabSizesIfInstalled() {
        assumeTrue(Files.exists(FashionMnist.DEFAULT_DIR.resolve("t10k-images-idx3-ubyte.gz")));
        SuiteData data = Suite.load("fashion-mnist", SuiteSizes.VTAB, FashionMnist.DEFAULT_DIR);
        assertEquals(List.of(800, 200, 1000, 2000), List.of(data.train().size(), data.val().size(),
                data.trainval().size(), data.test().size()));
        for (ImageDataset split : List.of(data.train(), data.val(), data.trainval(), data.test())) {
            assertBalanced(split);
        }
        RawImage first = data.test().image(0);
        assertEquals(List.of(28, 28, 1), List.of(first.width(), first.height(), first.channels()));
        assertArrayEquals(first.pixels(), Suite.load("fashion-mnist", SuiteSizes.VTAB, FashionMnist.DEFAULT_DIR)
                .test().image(0).pixels());
    }

    @Test
    void imagesAreDrawnOnceAndSafelyFromManyThreads() throws Exception {
        SuiteData data = load("cells", new SuiteSizes(5, 5, 200));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<List<byte[]>>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                results.add(pool.submit(() -> {
                    List<byte[]> images = new ArrayList<>();
                    for (int i = 0; i < data.test().size(); i++) {
                        images.add(data.test().image(i).pixels());
                    }
                    return images;
                }));
            }
            List<byte[]> reference = results.get(0).get();
            for (Future<List<byte[]>> result : results) {
                List<byte[]> images = result.get();
                for (int i = 0; i < images.size(); i++) {
                    assertArrayEquals(reference.get(i), images.get(i));
                }
            }
        } finally {
            pool.shutdownNow();
        }
        byte[] copy = data.test().image(0).pixels();
        copy[0] ^= 1;
        assertFalse(Arrays.equals(copy, data.test().image(0).pixels()), "callers get copies of the kept bytes");
    }

    @Test
    void previewWritesAContactSheet(@TempDir Path dir) throws IOException {
        Path png = dir.resolve("sheets/count.png");
        Suite.preview("count", 12, png);
        BufferedImage sheet = ImageIO.read(png.toFile());
        assertEquals(10 * (28 * 3 + 4) + 4, sheet.getWidth());
        assertEquals(2 * (28 * 3 + 13 + 4) + 4, sheet.getHeight());
        assertThrows(IllegalArgumentException.class, () -> Suite.preview("count", 801, png));
    }

    /**
     * The suite is a fixed benchmark: these checksums of each task's first training images change only when a
     * generator does, which then needs a deliberate update here (and invalidates earlier results).
     */
    @ParameterizedTest
    @MethodSource("taskNames")
    void fixedImagesDoNotChange(String name) {
        if (name.equals("fashion-mnist")) {
            return; // not generated: its images are the dataset's
        }
        SuiteData data = load(name, SMALL);
        CRC32 crc = new CRC32();
        for (ImageDataset split : List.of(data.train(), data.val(), data.test())) {
            for (int i = 0; i < 10; i++) {
                crc.update(split.image(i).pixels());
            }
        }
        assertEquals(GOLDEN.get(name), String.format("%08x", crc.getValue()), name);
    }

    private static final Map<String, String> GOLDEN = Map.of(
            "glyph-digits", "c217ea19",
            "font-style", "5cb03a21",
            "textures", "f1abf592",
            "cells", "6b50ebd9",
            "dsprites-location", "308951c7",
            "dsprites-orientation", "2a812394",
            "count", "fa15e37f",
            "distance", "db82c203");

    /** Class counts differ by at most one: balanced as far as the size divides by the number of classes. */
    private static void assertBalanced(ImageDataset split) {
        int k = split.classes().size();
        int[] counts = new int[k];
        for (int i = 0; i < split.size(); i++) {
            int label = split.label(i);
            assertTrue(label >= 0 && label < k, split.name() + ": label " + label);
            counts[label]++;
        }
        int min = Arrays.stream(counts).min().getAsInt();
        int max = Arrays.stream(counts).max().getAsInt();
        assertTrue(max - min <= 1 && min == split.size() / k,
                split.name() + " class counts " + Arrays.toString(counts));
    }
}
