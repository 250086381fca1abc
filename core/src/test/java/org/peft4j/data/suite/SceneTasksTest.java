package org.peft4j.data.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.peft4j.data.ImageDataset;

/** Counting blobs and measuring the nearest one's distance from the pixels gives the label. */
class SceneTasksTest {
    private static final int N = 300;
    /** Objects are at least 0.4 brighter than the background; noise is at most 0.02. */
    private static final double BRIGHT = 0.15;

    private static ImageDataset test(String name) {
        return Suite.load(name, new SuiteSizes(8, 8, N), Path.of("unused")).test();
    }

    @Test
    void countLabelIsTheNumberOfConnectedBlobs() {
        ImageDataset ds = test("count");
        for (int i = 0; i < N; i++) {
            boolean[] mask = SuiteFixtures.bright(SuiteFixtures.gray(ds.image(i)), BRIGHT);
            long blobs = Arrays.stream(SuiteFixtures.componentSizes(mask, Canvas.SIZE)).filter(s -> s >= 2).count();
            assertEquals(ds.label(i) + 1, blobs, "image " + i);
        }
    }

    @Test
    void distanceLabelIsTheBinOfTheNearestBrightPixel() {
        ImageDataset ds = test("distance");
        double[] edges = SceneTasks.Distance.EDGES;
        int exact = 0;
        for (int i = 0; i < N; i++) {
            boolean[] mask = SuiteFixtures.bright(SuiteFixtures.gray(ds.image(i)), BRIGHT);
            double nearest = Double.POSITIVE_INFINITY;
            for (int p = 0; p < mask.length; p++) {
                if (mask[p]) {
                    double dx = p % Canvas.SIZE + 0.5 - SceneTasks.Distance.REF_X;
                    double dy = p / Canvas.SIZE + 0.5 - SceneTasks.Distance.REF_Y;
                    nearest = Math.min(nearest, Math.sqrt(dx * dx + dy * dy));
                }
            }
            int label = ds.label(i);
            // A pixel centre half covered by the disc is up to ~0.7 px from its edge.
            assertTrue(nearest > edges[label] - 1 && nearest < edges[label + 1] + 1, "image " + i + " (label "
                    + label + "): nearest bright pixel at " + nearest);
            exact += nearest >= edges[label] && nearest < edges[label + 1] ? 1 : 0;
        }
        assertTrue(exact >= 0.85 * N, exact + " of " + N + " in the exact bin");
    }
}
