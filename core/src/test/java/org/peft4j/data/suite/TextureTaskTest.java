package org.peft4j.data.suite;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.peft4j.data.ImageDataset;

/** The structure tensor (mean outer product of the gradient) tells stripes, their direction, and grids apart. */
class TextureTaskTest {
    private static final int N = 350;

    @Test
    void stripesRunTheirClassesWayAndGridsHaveNoDirection() {
        ImageDataset ds = Suite.load("textures", new SuiteSizes(7, 7, N), Path.of("unused")).test();
        for (int i = 0; i < N; i++) {
            double[] tensor = orientation(SuiteFixtures.gray(ds.image(i)));
            double normal = tensor[0];
            double coherence = tensor[1];
            String what = "image " + i + " (" + ds.classes().get(ds.label(i)) + "): gradient at " + normal
                    + " degrees, coherence " + coherence;
            switch (ds.label(i)) {
                case 0 -> assertTrue(coherence > 0.6 && near(normal, 90, 24), what);
                case 1 -> assertTrue(coherence > 0.6 && near(normal, 0, 24), what);
                case 2 -> assertTrue(coherence > 0.6 && (near(normal, 45, 24) || near(normal, 135, 24)), what);
                case 3, 4 -> assertTrue(coherence < 0.2, what);
                default -> {
                }
            }
        }
    }

    /** Angle of the dominant gradient in degrees (y down, mod 180) and coherence in [0, 1]. */
    private static double[] orientation(double[] v) {
        int n = Canvas.SIZE;
        double jxx = 0;
        double jyy = 0;
        double jxy = 0;
        for (int y = 1; y < n - 1; y++) {
            for (int x = 1; x < n - 1; x++) {
                double gx = (v[y * n + x + 1] - v[y * n + x - 1]) / 2;
                double gy = (v[(y + 1) * n + x] - v[(y - 1) * n + x]) / 2;
                jxx += gx * gx;
                jyy += gy * gy;
                jxy += gx * gy;
            }
        }
        double angle = Math.toDegrees(0.5 * Math.atan2(2 * jxy, jxx - jyy));
        double coherence = Math.sqrt((jxx - jyy) * (jxx - jyy) + 4 * jxy * jxy) / (jxx + jyy);
        return new double[] {angle < 0 ? angle + 180 : angle, coherence};
    }

    /** Within tolerance of target, as undirected angles (mod 180). */
    private static boolean near(double angle, double target, double tolerance) {
        return Math.abs(Math.IEEEremainder(angle - target, 180)) < tolerance;
    }
}
