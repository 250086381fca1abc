package org.peft4j.data.seg;

import org.junit.jupiter.api.Test;
import org.peft4j.data.FashionMnist;
import org.peft4j.data.RawImage;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The generated domains: deterministic from the seed, masks that use their classes, statistics that differ. */
class SegDomainsTest {

    private static final SegDomains.Sizes SMALL = new SegDomains.Sizes(12, 4);

    private static List<String> domains() {
        List<String> d = new ArrayList<>(SegDomains.DOMAINS);
        if (!Files.exists(FashionMnist.DEFAULT_DIR.resolve("train-images-idx3-ubyte.gz"))
                && !Files.exists(FashionMnist.DEFAULT_DIR.resolve("train-images-idx3-ubyte"))) {
            d.remove("fashion"); // needs Debian's dataset-fashion-mnist
        }
        return d;
    }

    @Test
    void sameSeedSameImagesAndMasksOtherSeedOthers() {
        for (String d : domains()) {
            var a = SegDomains.splits(d, 96, SMALL, 3, null);
            var b = SegDomains.splits(d, 96, SMALL, 3, null);
            var c = SegDomains.splits(d, 96, SMALL, 4, null);
            assertArrayEquals(a.train().image(5).pixels(), b.train().image(5).pixels(), d);
            assertArrayEquals(a.test().mask(2).ids(), b.test().mask(2).ids(), d);
            assertFalse(java.util.Arrays.equals(a.train().image(5).pixels(), c.train().image(5).pixels()), d);
            assertFalse(java.util.Arrays.equals(a.train().image(0).pixels(), a.test().image(0).pixels()), d);
        }
    }

    @Test
    void everyForegroundClassOccursAndMasksMatchTheirImages() {
        for (String d : domains()) {
            var s = SegDomains.splits(d, 96, new SegDomains.Sizes(40, 4), 1, null);
            int classes = s.train().classes().size();
            boolean[] seen = new boolean[classes];
            for (int i = 0; i < s.train().size(); i++) {
                SegMask m = s.train().mask(i);
                RawImage img = s.train().image(i);
                assertEquals(img.width(), m.width());
                assertEquals(img.height(), m.height());
                for (byte id : m.ids()) {
                    assertTrue((id & 0xFF) < classes, d + ": id " + id);
                    seen[id & 0xFF] = true;
                }
                assertFalse(Regions.of(m, 8).isEmpty(), d + " image " + i + " has nothing to prompt");
            }
            for (int c = 0; c < classes; c++) {
                assertTrue(seen[c], d + ": class " + s.train().classes().get(c) + " never occurs");
            }
        }
    }

    @Test
    void domainsDifferInColourAndForegroundShare() {
        List<double[]> stats = new ArrayList<>();
        for (String d : domains()) {
            var s = SegDomains.splits(d, 96, SMALL, 1, null);
            double[] mean = new double[4];
            for (int i = 0; i < s.train().size(); i++) {
                RawImage img = s.train().image(i);
                for (int k = 0; k < img.pixels().length; k++) {
                    mean[k % 3] += (img.pixels()[k] & 0xFF) / 255.0;
                }
                for (byte id : s.train().mask(i).ids()) {
                    mean[3] += id != 0 ? 1 : 0;
                }
            }
            double pixels = s.train().size() * 96.0 * 96.0;
            for (int k = 0; k < 4; k++) {
                mean[k] /= pixels;
            }
            stats.add(mean);
        }
        for (int a = 0; a < stats.size(); a++) {
            for (int b = a + 1; b < stats.size(); b++) {
                double dist = 0;
                for (int k = 0; k < 4; k++) {
                    dist += Math.abs(stats.get(a)[k] - stats.get(b)[k]);
                }
                assertTrue(dist > 0.05, domains().get(a) + " and " + domains().get(b) + " look alike: " + dist);
            }
        }
    }

    @Test
    void unknownDomainAndBadSizesAreRefused() {
        assertThrows(RuntimeException.class, () -> SegDomains.splits("moon", 96, SMALL, 1, null));
        assertThrows(IllegalArgumentException.class, () -> SegDomains.splits("cells", 8, SMALL, 1, null));
        assertThrows(IllegalArgumentException.class, () -> new SegDomains.Sizes(0, 4));
    }

    @Test
    void sourceShapesAreNoneOfTheDomains() {
        assertFalse(SegDomains.DOMAINS.contains(SegDomains.SOURCE));
        var src = SegDomains.source(96, 1, 3);
        assertEquals(3, src.size());
        assertTrue(Regions.of(src.mask(0), 8).size() >= 1);
    }
}
