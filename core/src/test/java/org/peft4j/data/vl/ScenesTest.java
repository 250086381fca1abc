package org.peft4j.data.vl;

import org.junit.jupiter.api.Test;
import org.peft4j.data.RawImage;
import org.peft4j.data.vl.Scene.Colour;
import org.peft4j.data.vl.Scene.Item;
import org.peft4j.data.vl.Scene.Shape;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Scene layout rules, pixel-exact rendering of each shape, and determinism. */
class ScenesTest {

    @Test
    void coloursAreApartInGrayscale() {
        double[] luma = Arrays.stream(Colour.values()).mapToDouble(Colour::luma).sorted().toArray();
        for (int i = 1; i < luma.length; i++) {
            assertTrue(luma[i] - luma[i - 1] >= 40, "luma " + luma[i - 1] + " and " + luma[i] + " are too close");
        }
    }

    @Test
    void rendersEachShapePixelExact() {
        Scene scene = new Scene(28, List.of(
                new Item(Colour.RED, Shape.SQUARE, 5.5, 5.5, 7),
                new Item(Colour.GREEN, Shape.CIRCLE, 20.5, 6.5, 5),
                new Item(Colour.BLUE, Shape.TRIANGLE, 6.5, 20.5, 7)));
        RawImage image = Scenes.render(scene);
        assertEquals(3, image.channels());
        assertEquals(28, image.width());
        String square = String.join("\n", rows(image, 2, 2, 9, 9));
        assertEquals("""
                .......
                .......
                .......
                .......
                .......
                .......
                .......""".replace('.', '#'), square);
        assertEquals(List.of(" ### ", "#####", "#####", "#####", " ### "), rows(image, 18, 4, 23, 9));
        assertEquals(List.of("   #   ", "   #   ", "  ###  ", "  ###  ", " ##### ", " ##### ", "#######"),
                rows(image, 3, 17, 10, 24));
        assertEquals(255, image.get(2, 2, 0));
        assertEquals(0, image.get(2, 2, 1));
        assertEquals(200, image.get(20, 6, 1));
        assertEquals(255, image.get(6, 23, 2));
        assertEquals(0, image.get(14, 14, 0) + image.get(14, 14, 1) + image.get(14, 14, 2));
    }

    /** '#' where a pixel is not black, over [x0, x1) x [y0, y1). */
    private static List<String> rows(RawImage image, int x0, int y0, int x1, int y1) {
        String[] out = new String[y1 - y0];
        for (int y = y0; y < y1; y++) {
            StringBuilder row = new StringBuilder();
            for (int x = x0; x < x1; x++) {
                boolean lit = image.get(x, y, 0) + image.get(x, y, 1) + image.get(x, y, 2) > 0;
                row.append(lit ? '#' : ' ');
            }
            out[y - y0] = row.toString();
        }
        return List.of(out);
    }

    @Test
    void randomScenesFollowTheLayoutRules() {
        for (int size : new int[] {Scenes.MIN_SIZE, 28, 64}) {
            Random random = new Random(size);
            for (int s = 0; s < 150; s++) {
                Scene scene = Scenes.random(random, size, 2, 6);
                List<Item> items = scene.items();
                assertTrue(items.size() >= 2 && items.size() <= 6);
                for (Item a : items) {
                    assertEquals(1, a.side() % 2, "odd sides");
                    if (size == 28) {
                        assertTrue(a.side() >= 5 && a.side() <= 7, "side " + a.side());
                    }
                    for (Item b : items) {
                        if (a != b) {
                            boolean apart = Math.abs(a.x() - b.x()) >= (a.side() + b.side()) / 2.0 + Scenes.GAP
                                    || Math.abs(a.y() - b.y()) >= (a.side() + b.side()) / 2.0 + Scenes.GAP;
                            assertTrue(apart, a + " touches " + b);
                        }
                    }
                    double[] d = items.stream().filter(b -> b != a).mapToDouble(a::distanceSquared).sorted().toArray();
                    if (d.length > 1) {
                        assertNotEquals(d[0], d[1], "closest object tied");
                        assertNotEquals(d[d.length - 1], d[d.length - 2], "farthest object tied");
                    }
                }
            }
        }
    }

    @Test
    void sameSeedSameScene() {
        Scene a = Scenes.random(new Random(5), 28, 2, 6);
        assertEquals(a, Scenes.random(new Random(5), 28, 2, 6));
        assertArrayEquals(Scenes.render(a).pixels(), Scenes.render(Scenes.random(new Random(5), 28, 2, 6)).pixels());
        assertNotEquals(a, Scenes.random(new Random(6), 28, 2, 6));
    }

    @Test
    void rejectsBadScenes() {
        assertThrows(IllegalArgumentException.class, () -> new Scene(28, List.of(
                new Item(Colour.RED, Shape.SQUARE, 5.5, 5.5, 7), new Item(Colour.RED, Shape.CIRCLE, 20.5, 20.5, 7))));
        assertThrows(IllegalArgumentException.class, () -> new Scene(28, List.of(new Item(Colour.RED, Shape.SQUARE, 26.5, 5.5, 7))));
        assertThrows(IllegalArgumentException.class, () -> Scenes.random(new Random(1), 16, 2, 6));
        assertFalse(Scenes.covers(new Item(Colour.RED, Shape.TRIANGLE, 3.5, 3.5, 7), 0.5, 0.5));
    }
}
