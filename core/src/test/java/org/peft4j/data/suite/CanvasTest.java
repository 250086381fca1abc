package org.peft4j.data.suite;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Shape;
import java.awt.geom.Path2D;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CanvasTest {
    private static double sum(double[] values) {
        double s = 0;
        for (double v : values) {
            s += v;
        }
        return s;
    }

    private static double at(double[] coverage, int x, int y) {
        return coverage[y * Canvas.SIZE + x];
    }

    @Test
    void coverageOfAnAlignedRectangleIsExact() {
        double[] c = Canvas.coverage(Shapes.polygon(2, 3, 5.5, 3, 5.5, 4, 2, 4));
        assertEquals(1.0, at(c, 2, 3), 1e-12);
        assertEquals(1.0, at(c, 4, 3), 1e-12);
        assertEquals(0.5, at(c, 5, 3), 1e-12);
        assertEquals(0.0, at(c, 6, 3), 1e-12);
        assertEquals(0.0, at(c, 3, 4), 1e-12);
        assertEquals(3.5, sum(c), 1e-12);
    }

    @Test
    void coverageAddsUpToTheAreaAndClipsAtTheBorder() {
        double polygonArea = 32 * 16 * Math.sin(2 * Math.PI / 64); // circles are 64-gons
        assertEquals(polygonArea, sum(Canvas.coverage(Shapes.circle(14, 14, 4))), 0.02);
        // A triangle with area 12.5: sub-row sampling is exact for straight edges up to the sample spacing.
        assertEquals(12.5, sum(Canvas.coverage(Shapes.polygon(10, 10, 15, 10, 10, 15))), 0.05);
        // Half of this square lies left of the image.
        assertEquals(8.0, sum(Canvas.coverage(Shapes.polygon(-2, 0, 2, 0, 2, 4, -2, 4))), 1e-12);
    }

    @Test
    void windingRulesAreHonoured() {
        Path2D.Double ring = new Path2D.Double(Path2D.WIND_EVEN_ODD);
        ring.append(Shapes.polygon(4, 4, 12, 4, 12, 12, 4, 12), false);
        ring.append(Shapes.polygon(6, 6, 10, 6, 10, 10, 6, 10), false);
        assertEquals(64 - 16, sum(Canvas.coverage(ring)), 1e-9);
        Path2D.Double twice = new Path2D.Double(Path2D.WIND_NON_ZERO);
        twice.append(Shapes.polygon(4, 4, 12, 4, 12, 12, 4, 12), false);
        twice.append(Shapes.polygon(6, 6, 10, 6, 10, 10, 6, 10), false);
        assertEquals(64, sum(Canvas.coverage(twice)), 1e-9);
    }

    @Test
    void drawingBlendsByCoverageAndBytesAreClamped() {
        Canvas canvas = new Canvas();
        canvas.fill(0.2);
        canvas.draw(Shapes.polygon(0, 0, 1.5, 0, 1.5, 1, 0, 1), 1.0);
        canvas.add((x, y) -> x >= 27 ? 5 : 0);
        byte[] bytes = canvas.toBytes();
        assertEquals(255, bytes[0] & 0xFF);
        assertEquals(Math.round(0.6 * 255), bytes[1] & 0xFF);
        assertEquals(Math.round(0.2 * 255), bytes[2] & 0xFF);
        assertEquals(255, bytes[27] & 0xFF);
    }

    @Test
    void blurKeepsAFlatImageAndNoiseIsSeeded() {
        Canvas flat = new Canvas();
        flat.fill(0.5);
        flat.blur(1.3);
        byte[] expected = new byte[Canvas.SIZE * Canvas.SIZE];
        Arrays.fill(expected, (byte) Math.round(0.5 * 255));
        assertArrayEquals(expected, flat.toBytes());

        Canvas a = new Canvas();
        Canvas b = new Canvas();
        a.addNoise(new Random(3), 0.1);
        b.addNoise(new Random(3), 0.1);
        assertArrayEquals(a.toBytes(), b.toBytes());
    }

    @Test
    void glyphOutlinesRasterizeToTheirBoxes() {
        Glyphs.Glyph one = Glyphs.glyph(Glyphs.Face.SANS, '1');
        Shape shape = Shapes.place(one.outline(), 14, 14, 20 / one.height(), 0);
        double[] c = Canvas.coverage(shape);
        double ink = sum(c);
        // The "1" is 20 px tall and its box is centred: all ink lies within rows 4..23.
        double outside = 0;
        for (int y = 0; y < Canvas.SIZE; y++) {
            for (int x = 0; x < Canvas.SIZE; x++) {
                outside += y < 4 || y >= 24 ? at(c, x, y) : 0;
            }
        }
        assertEquals(0, outside, 1e-9);
        assertTrue(ink > 20 && ink < 120, "ink " + ink);
    }
}
