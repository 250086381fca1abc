package org.peft4j.data.seg;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Connected regions per class, their boxes, the deepest pixel, and the minimum area. */
class RegionsTest {

    private static SegMask mask(String... rows) {
        int h = rows.length;
        int w = rows[0].length();
        byte[] ids = new byte[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                ids[y * w + x] = (byte) (rows[y].charAt(x) - '0');
            }
        }
        return new SegMask(w, h, ids);
    }

    @Test
    void regionsAreFourConnectedAndPerClass() {
        SegMask m = mask(
                "1100022",
                "1100022",
                "0010000",
                "0000111",
                "2200111",
                "2200111");
        List<Regions.Region> r = Regions.of(m, 1);
        assertEquals(5, r.size()); // the diagonal 1 is its own region; two 2-blocks apart
        Regions.Region first = r.get(0);
        assertEquals(1, first.classId());
        assertEquals(4, first.area());
        assertEquals(0, first.x0());
        assertEquals(1, first.y1());
        Regions.Region block = r.stream().filter(x -> x.area() == 9).findFirst().orElseThrow();
        assertEquals(1, block.classId());
        assertEquals(5, block.centreX()); // the 3x3 block's middle is the only pixel two steps from outside
        assertEquals(4, block.centreY());
        assertEquals(4, Regions.of(m, 2).size()); // the single pixel is dropped
    }

    @Test
    void backgroundOnlyMeansNoRegions() {
        assertEquals(0, Regions.of(mask("000", "000"), 1).size());
    }
}
