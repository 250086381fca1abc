package org.peft4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class BatchLoaderTest {
    private static final ImageTransform ONE_PIXEL = new ImageTransform(1, 1, new float[] {0f}, new float[] {1f / 255});
    private final ImageDataset ds = TestImages.indexed(103, 5, i -> i % 5);

    @Test
    void everyIndexOncePerEpochWithMatchingLabels() {
        try (BatchLoader loader = new BatchLoader(ds, ONE_PIXEL, 10, true, 42, 0, false)) {
            assertEquals(11, loader.numBatches());
            boolean[] seen = new boolean[ds.size()];
            int batches = 0;
            for (Batch batch : loader) {
                batches++;
                assertEquals(batch.size(), batch.labels().length);
                assertEquals(1, batch.channels());
                for (int i = 0; i < batch.size(); i++) {
                    int index = Math.round(batch.pixels()[i]); // std 1/255 turns the pixel back into its index
                    assertFalse(seen[index], "index " + index + " seen twice");
                    seen[index] = true;
                    assertEquals(index % 5, batch.labels()[i]);
                }
            }
            assertEquals(11, batches);
            for (boolean s : seen) {
                assertTrue(s);
            }
        }
    }

    @Test
    void orderDependsOnSeedAndEpochOnly() {
        int[] first = visitOrder(new BatchLoader(ds, ONE_PIXEL, 8, true, 42, 3, false, 1, 4));
        int[] again = visitOrder(new BatchLoader(ds, ONE_PIXEL, 8, true, 42, 3, false, 3, 2));
        int[] nextEpoch = visitOrder(new BatchLoader(ds, ONE_PIXEL, 8, true, 42, 4, false));
        int[] unshuffled = visitOrder(new BatchLoader(ds, ONE_PIXEL, 8, false, 42, 3, false));

        assertArrayEquals(first, again, "same seed and epoch, different thread count");
        assertFalse(Arrays.equals(first, nextEpoch));
        for (int i = 0; i < unshuffled.length; i++) {
            assertEquals(i, unshuffled[i]);
        }
    }

    @Test
    void dropLastAndIteratingTwice() {
        try (BatchLoader loader = new BatchLoader(ds, ONE_PIXEL, 10, false, 0, 0, true)) {
            assertEquals(10, loader.numBatches());
            List<Integer> sizes = new ArrayList<>();
            loader.forEach(b -> sizes.add(b.size()));
            loader.forEach(b -> sizes.add(b.size()));
            assertEquals(20, sizes.size());
            assertTrue(sizes.stream().allMatch(s -> s == 10));
        }
        try (BatchLoader loader = new BatchLoader(ds, ONE_PIXEL, 10, false, 0, 0, false)) {
            Batch last = null;
            for (Batch b : loader) {
                last = b;
            }
            assertEquals(3, last.size());
            assertEquals(3, last.pixels().length);
        }
    }

    @Test
    void batchShapeIsNchw() {
        ImageTransform rgb = new ImageTransform(2, 3, new float[3], new float[] {1, 1, 1});
        try (BatchLoader loader = new BatchLoader(ds, rgb, 4, false, 0, 0, false)) {
            Batch batch = loader.iterator().next();
            assertEquals(4, batch.size());
            assertEquals(3, batch.channels());
            assertEquals(2, batch.height());
            assertEquals(2, batch.width());
            assertEquals(4 * 3 * 2 * 2, batch.pixels().length);
            assertEquals(1 / 255f, batch.pixels()[12], 1e-7); // example 1, channel 0, pixel (0,0)
        }
    }

    @Test
    void workerExceptionSurfacesOnTheConsumerThread() {
        ImageDataset broken = new FailingDataset(ds, 25, null);
        try (BatchLoader loader = new BatchLoader(broken, ONE_PIXEL, 10, false, 0, 0, false, 2, 4)) {
            Iterator<Batch> it = loader.iterator();
            it.next();
            it.next();
            DataException e = assertThrows(DataException.class, it::next);
            assertTrue(e.getMessage().contains("batch 2") && e.getMessage().contains("bad example 25"), e.getMessage());
            assertInstanceOf(DataException.class, e.getCause());
            assertFalse(it.hasNext());
        }
    }

    @Test
    void closeMidIterationDoesNotHang() {
        CountDownLatch release = new CountDownLatch(1); // never released: workers block until interrupted
        ImageDataset slow = new FailingDataset(ds, 15, release);
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            BatchLoader loader = new BatchLoader(slow, ONE_PIXEL, 10, false, 0, 0, false, 2, 4);
            Iterator<Batch> it = loader.iterator();
            assertEquals(10, it.next().size());
            loader.close();
            assertThrows(IllegalStateException.class, it::next);
            assertThrows(IllegalStateException.class, loader::iterator);
        });
        assertTimeoutPreemptively(Duration.ofSeconds(5), BatchLoaderTest::awaitNoLoaderThreads);
    }

    @Test
    void closeFromAnotherThreadWakesABlockedConsumer() throws InterruptedException {
        CountDownLatch release = new CountDownLatch(1);
        ImageDataset slow = new FailingDataset(ds, 5, release);
        BatchLoader loader = new BatchLoader(slow, ONE_PIXEL, 10, false, 0, 0, false);
        Thread closer = new Thread(() -> {
            sleep(200);
            loader.close();
        });
        closer.start();
        assertTimeoutPreemptively(Duration.ofSeconds(5),
                () -> assertThrows(IllegalStateException.class, () -> loader.iterator().next()));
        closer.join();
    }

    private static int[] visitOrder(BatchLoader loader) {
        try (loader) {
            int[] order = new int[103];
            int j = 0;
            for (Batch batch : loader) {
                for (int i = 0; i < batch.size(); i++) {
                    order[j++] = Math.round(batch.pixels()[i]);
                }
            }
            assertArrayEquals(loader.order(), order);
            return order;
        }
    }

    private static void awaitNoLoaderThreads() {
        while (Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.getName().startsWith("peft4j-batch-loader-") && t.isAlive())) {
            sleep(10);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Delegates to base, but example badIndex throws (release == null) or blocks on release. */
    private record FailingDataset(ImageDataset base, int badIndex, CountDownLatch release) implements ImageDataset {
        @Override
        public String name() {
            return "failing";
        }

        @Override
        public int size() {
            return base.size();
        }

        @Override
        public List<String> classes() {
            return base.classes();
        }

        @Override
        public int label(int index) {
            return base.label(index);
        }

        @Override
        public RawImage image(int index) {
            if (index == badIndex) {
                if (release == null) {
                    throw new DataException("bad example " + index);
                }
                try {
                    release.await(1, TimeUnit.MINUTES);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new DataException("interrupted at " + index);
                }
            }
            return base.image(index);
        }
    }
}
