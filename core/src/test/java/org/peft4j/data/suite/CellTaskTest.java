package org.peft4j.data.suite;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.peft4j.data.ImageDataset;

/** Round cells are round and elongated ones long, measured on the blobs above half the image's brightness. */
class CellTaskTest {
    private static final int N = 250;

    @Test
    void roundCellsAreRoundAndElongatedOnesAreLong() {
        ImageDataset ds = Suite.load("cells", new SuiteSizes(5, 5, N), Path.of("unused")).test();
        for (int i = 0; i < N; i++) {
            int label = ds.label(i);
            if (label > 1) {
                continue;
            }
            List<Double> aspects = blobAspects(SuiteFixtures.gray(ds.image(i)));
            assertTrue(!aspects.isEmpty(), "image " + i + " has no cell");
            for (double aspect : aspects) {
                if (label == 0) {
                    assertTrue(aspect < 1.55, "round cell in image " + i + " has aspect ratio " + aspect);
                } else {
                    assertTrue(aspect > 1.6, "elongated cell in image " + i + " has aspect ratio " + aspect);
                }
            }
        }
    }

    /** Length over width (from second moments) of each blob of 6+ pixels above half the brightness range. */
    private static List<Double> blobAspects(double[] v) {
        double background = SuiteFixtures.median(v);
        double max = 0;
        for (double x : v) {
            max = Math.max(max, x);
        }
        boolean[] mask = SuiteFixtures.bright(v, 0.5 * (max - background));
        int[] blob = SuiteFixtures.componentLabels(mask, Canvas.SIZE);
        List<Double> aspects = new ArrayList<>();
        for (int b = 0; b <= max(blob); b++) {
            double n = 0;
            double mx = 0;
            double my = 0;
            for (int p = 0; p < blob.length; p++) {
                if (blob[p] == b) {
                    n++;
                    mx += p % Canvas.SIZE;
                    my += p / Canvas.SIZE;
                }
            }
            if (n < 6) {
                continue;
            }
            mx /= n;
            my /= n;
            double cxx = 0;
            double cyy = 0;
            double cxy = 0;
            for (int p = 0; p < blob.length; p++) {
                if (blob[p] == b) {
                    double dx = p % Canvas.SIZE - mx;
                    double dy = p / Canvas.SIZE - my;
                    cxx += dx * dx;
                    cyy += dy * dy;
                    cxy += dx * dy;
                }
            }
            double half = (cxx + cyy) / 2;
            double spread = Math.sqrt(half * half - (cxx * cyy - cxy * cxy));
            aspects.add(Math.sqrt((half + spread) / (half - spread)));
        }
        return aspects;
    }

    private static int max(int[] values) {
        int m = -1;
        for (int v : values) {
            m = Math.max(m, v);
        }
        return m;
    }
}
