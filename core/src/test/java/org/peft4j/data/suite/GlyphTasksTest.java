package org.peft4j.data.suite;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.data.DataException;
import org.peft4j.data.ImageDataset;
import org.peft4j.data.RawImage;
import org.peft4j.data.suite.Glyphs.Face;

class GlyphTasksTest {
    /** A nearest-class-mean classifier on normalized pixels learns the digit far above chance (0.1). */
    @Test
    void digitsAreLearnableFromPixels() {
        SuiteData data = Suite.load("glyph-digits", new SuiteSizes(500, 10, 300), Path.of("unused"));
        int n = Canvas.SIZE * Canvas.SIZE;
        double[][] means = new double[10][n];
        for (int i = 0; i < data.train().size(); i++) {
            double[] v = normalized(data.train().image(i));
            for (int p = 0; p < n; p++) {
                means[data.train().label(i)][p] += v[p] / 50;
            }
        }
        ImageDataset test = data.test();
        int correct = 0;
        for (int i = 0; i < test.size(); i++) {
            double[] v = normalized(test.image(i));
            int best = 0;
            double bestDistance = Double.POSITIVE_INFINITY;
            for (int c = 0; c < 10; c++) {
                double d = 0;
                for (int p = 0; p < n; p++) {
                    d += (v[p] - means[c][p]) * (v[p] - means[c][p]);
                }
                if (d < bestDistance) {
                    bestDistance = d;
                    best = c;
                }
            }
            correct += best == test.label(i) ? 1 : 0;
        }
        assertTrue(correct > 0.35 * test.size(), "nearest class mean: " + correct + " of " + test.size());
    }

    /** Same seed, so the same letter, size, place and ink: the bold face of each family lays down more ink. */
    @Test
    void boldFacesInkMoreThanRegularOnesForTheSameLetter() {
        GlyphTasks.FontStyle generator = new GlyphTasks.FontStyle();
        for (int seed = 0; seed < 60; seed++) {
            for (int family = 0; family < 3; family++) {
                long regular = ink(generator, 2 * family, seed);
                long bold = ink(generator, 2 * family + 1, seed);
                assertTrue(bold > regular, generator.classes().get(2 * family) + " seed " + seed + ": bold " + bold
                        + " <= regular " + regular);
            }
        }
    }

    @Test
    void missingFontNamesTheFileAndThePackage(@TempDir Path dir) {
        DataException e = assertThrows(DataException.class, () -> Glyphs.load(dir, Face.SERIF_BOLD));
        assertTrue(e.getMessage().contains(dir.resolve("DejaVuSerif-Bold.ttf").toString())
                && e.getMessage().contains("fonts-dejavu-core"), e.getMessage());
    }

    @Test
    void fontsComeFromTheDejaVuFiles() {
        for (Face face : Face.values()) {
            assertTrue(Files.isRegularFile(Glyphs.FONT_DIR.resolve(face.file)), face.file);
            assertTrue(Glyphs.font(face).getFamily().startsWith("DejaVu"), Glyphs.font(face).getFamily());
        }
    }

    private static long ink(GlyphTasks.FontStyle generator, int label, int seed) {
        Canvas canvas = new Canvas();
        generator.draw(canvas, label, new Random(seed));
        long sum = 0;
        for (byte b : canvas.toBytes()) {
            sum += b & 0xFF;
        }
        return sum;
    }

    private static double[] normalized(RawImage image) {
        double[] v = SuiteFixtures.gray(image);
        double mean = 0;
        for (double x : v) {
            mean += x / v.length;
        }
        double var = 0;
        for (double x : v) {
            var += (x - mean) * (x - mean) / v.length;
        }
        double std = Math.sqrt(var) + 1e-9;
        for (int i = 0; i < v.length; i++) {
            v[i] = (v[i] - mean) / std;
        }
        return v;
    }
}
