package org.peft4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ImageDatasetsTest {
    // 3 classes of unequal size: class 0 has 50 examples, class 1 has 30, class 2 has 20.
    private final ImageDataset ds = TestImages.indexed(100, 3, i -> i < 50 ? 0 : i < 80 ? 1 : 2);

    @Test
    void splitIsStratifiedDisjointAndComplete() {
        ImageDataset[] parts = ImageDatasets.splitTrainVal(ds, 0.2, 7);
        int[] train = originalIndices(parts[0]);
        int[] val = originalIndices(parts[1]);

        assertArrayEquals(new int[] {40, 24, 16}, classCounts(parts[0]));
        assertArrayEquals(new int[] {10, 6, 4}, classCounts(parts[1]));
        Set<Integer> all = new HashSet<>();
        Arrays.stream(train).forEach(all::add);
        Arrays.stream(val).forEach(i -> assertTrue(all.add(i), "index " + i + " in both parts"));
        assertEquals(100, all.size());
        for (int i = 0; i < parts[1].size(); i++) {
            assertEquals(ds.label(val[i]), parts[1].label(i));
        }
        assertEquals(ds.classes(), parts[0].classes());
    }

    @Test
    void splitIsDeterministicPerSeed() {
        int[] a = originalIndices(ImageDatasets.splitTrainVal(ds, 0.2, 7)[1]);
        int[] b = originalIndices(ImageDatasets.splitTrainVal(ds, 0.2, 7)[1]);
        int[] c = originalIndices(ImageDatasets.splitTrainVal(ds, 0.2, 8)[1]);

        assertArrayEquals(a, b);
        assertFalse(Arrays.equals(a, c));
        assertFalse(Arrays.equals(a, new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 50, 51, 52, 53, 54, 55, 80, 81, 82, 83}),
                "the split must be random, not the first examples of each class");
    }

    @Test
    void smallClassesKeepOneExampleOnEachSide() {
        ImageDataset tiny = TestImages.indexed(3, 2, i -> i == 0 ? 0 : 1);
        ImageDataset[] parts = ImageDatasets.splitTrainVal(tiny, 0.1, 1);

        assertArrayEquals(new int[] {1, 1}, classCounts(parts[0]));
        assertArrayEquals(new int[] {0, 1}, classCounts(parts[1]));
        assertEquals(0, ImageDatasets.splitTrainVal(ds, 0.0, 1)[1].size());
        assertThrows(IllegalArgumentException.class, () -> ImageDatasets.splitTrainVal(ds, 1.0, 1));
    }

    @Test
    void limitPerClassDrawsDeterministicFewShotSubsets() {
        ImageDataset few = ImageDatasets.limitPerClass(ds, 25, 3);

        assertArrayEquals(new int[] {25, 25, 20}, classCounts(few));
        assertArrayEquals(originalIndices(few), originalIndices(ImageDatasets.limitPerClass(ds, 25, 3)));
        assertFalse(Arrays.equals(originalIndices(few), originalIndices(ImageDatasets.limitPerClass(ds, 25, 4))));
        int[] oneShot = originalIndices(ImageDatasets.limitPerClass(ds, 1, 3));
        assertEquals(3, oneShot.length);
        assertThrows(IllegalArgumentException.class, () -> ImageDatasets.limitPerClass(ds, 0, 3));
    }

    @Test
    void selectClassesRelabelsInTheGivenOrder() {
        ImageDataset selected = ImageDatasets.selectClasses(ds, List.of(2, 0));

        assertEquals(List.of("class2", "class0"), selected.classes());
        assertEquals(70, selected.size());
        assertArrayEquals(new int[] {20, 50}, classCounts(selected));
        assertEquals(1, selected.label(0)); // example 0 was class 0, now the second kept class
        assertEquals(0, selected.label(69)); // example 99 was class 2
        assertEquals(99, originalIndex(selected, 69));
        assertThrows(IllegalArgumentException.class, () -> ImageDatasets.selectClasses(ds, List.of(3)));
        assertThrows(IllegalArgumentException.class, () -> ImageDatasets.selectClasses(ds, List.of(1, 1)));
    }

    @Test
    void subsetKeepsOrderAndRejectsBadIndices() {
        ImageDataset sub = ImageDatasets.subset(ds, new int[] {99, 3, 3}, "sub");

        assertEquals("sub", sub.name());
        assertEquals(3, sub.size());
        assertEquals(2, sub.label(0));
        assertEquals(3, originalIndex(sub, 2));
        assertThrows(IllegalArgumentException.class, () -> ImageDatasets.subset(ds, new int[] {100}, "bad"));
    }

    @Test
    void concatChainsThePartsAndRequiresTheSameClasses() {
        ImageDataset first = ImageDatasets.subset(ds, new int[] {99, 3}, "first");
        ImageDataset second = ImageDatasets.subset(ds, new int[] {60}, "second");
        ImageDataset both = ImageDatasets.concat("both", first, second);

        assertEquals("both", both.name());
        assertEquals(3, both.size());
        assertArrayEquals(new int[] {99, 3, 60}, originalIndices(both));
        assertEquals(List.of(2, 0, 1), List.of(both.label(0), both.label(1), both.label(2)));
        assertThrows(IndexOutOfBoundsException.class, () -> both.label(3));
        ImageDataset otherClasses = TestImages.indexed(2, 2, i -> i);
        assertThrows(IllegalArgumentException.class, () -> ImageDatasets.concat("bad", first, otherClasses));
        assertThrows(IllegalArgumentException.class, () -> ImageDatasets.concat("none"));
    }

    private static int originalIndex(ImageDataset view, int i) {
        return view.image(i).pixels()[0] & 0xFF;
    }

    private static int[] originalIndices(ImageDataset view) {
        int[] result = new int[view.size()];
        for (int i = 0; i < result.length; i++) {
            result[i] = originalIndex(view, i);
        }
        return result;
    }

    private static int[] classCounts(ImageDataset view) {
        int[] counts = new int[view.classes().size()];
        for (int i = 0; i < view.size(); i++) {
            counts[view.label(i)]++;
        }
        return counts;
    }
}
