package org.peft4j.data.suite;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.peft4j.data.ImageDataset;

/** The sprite's position and direction, measured from its pixels, agree with the label. */
class SpriteTasksTest {
    private static final int N = 400;

    private static ImageDataset test(String name) {
        return Suite.load(name, new SuiteSizes(8, 8, N), Path.of("unused")).test();
    }

    @Test
    void locationLabelIsTheBinOfTheBrightPixelsCentroid() {
        ImageDataset ds = test("dsprites-location");
        double binWidth = (SpriteTasks.Location.HI - SpriteTasks.Location.LO) / SpriteTasks.Location.BINS;
        int exact = 0;
        for (int i = 0; i < N; i++) {
            double[] v = SuiteFixtures.gray(ds.image(i));
            double mass = 0;
            double sx = 0;
            for (int p = 0; p < v.length; p++) {
                mass += v[p];
                sx += v[p] * (p % Canvas.SIZE + 0.5);
            }
            double cx = sx / mass;
            int label = ds.label(i);
            double lo = SpriteTasks.Location.LO + label * binWidth;
            // Byte rounding moves the centroid by hundredths of a pixel at most.
            assertTrue(cx > lo - 0.05 && cx < lo + binWidth + 0.05, "image " + i + ": centroid x " + cx
                    + " outside bin " + label + " [" + lo + ", " + (lo + binWidth) + ")");
            exact += cx >= lo && cx < lo + binWidth ? 1 : 0;
        }
        assertTrue(exact >= 0.98 * N, exact + " of " + N + " in the exact bin");
    }

    /**
     * The sprites taper towards where they point, so the direction is the principal axis of the pixel mass,
     * turned towards its long tail (positive third moment).
     */
    @Test
    void orientationLabelIsTheBinOfTheMomentsDirection() {
        ImageDataset ds = test("dsprites-orientation");
        int exact = 0;
        for (int i = 0; i < N; i++) {
            double[] v = SuiteFixtures.gray(ds.image(i));
            double mass = 0;
            double mx = 0;
            double my = 0;
            for (int p = 0; p < v.length; p++) {
                mass += v[p];
                mx += v[p] * (p % Canvas.SIZE);
                my += v[p] * (p / Canvas.SIZE);
            }
            mx /= mass;
            my /= mass;
            double cxx = 0;
            double cyy = 0;
            double cxy = 0;
            for (int p = 0; p < v.length; p++) {
                double dx = p % Canvas.SIZE - mx;
                double dy = p / Canvas.SIZE - my;
                cxx += v[p] * dx * dx;
                cyy += v[p] * dy * dy;
                cxy += v[p] * dx * dy;
            }
            double axis = 0.5 * Math.atan2(2 * cxy, cxx - cyy);
            double ux = Math.cos(axis);
            double uy = Math.sin(axis);
            double skew = 0;
            for (int p = 0; p < v.length; p++) {
                double t = (p % Canvas.SIZE - mx) * ux + (p / Canvas.SIZE - my) * uy;
                skew += v[p] * t * t * t;
            }
            if (skew < 0) {
                ux = -ux;
                uy = -uy;
            }
            double degrees = Math.toDegrees(Math.atan2(-uy, ux)); // y down in the image, up in the label
            double offset = Math.IEEEremainder(degrees - 45 * ds.label(i), 360);
            assertTrue(Math.abs(offset) < 22.5 + 8, "image " + i + " (label " + ds.label(i) + ") points at "
                    + degrees + " degrees");
            exact += Math.abs(offset) < 22.5 ? 1 : 0;
        }
        assertTrue(exact >= 0.95 * N, exact + " of " + N + " in the exact bin");
    }
}
