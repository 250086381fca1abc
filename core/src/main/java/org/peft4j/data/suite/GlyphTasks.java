package org.peft4j.data.suite;

import java.util.List;
import java.util.Random;
import org.peft4j.data.suite.Glyphs.Face;
import org.peft4j.data.suite.Glyphs.Glyph;

/** Natural tasks drawn from type: which digit (glyph-digits) and which typeface (font-style). */
final class GlyphTasks {
    private static final String LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    private GlyphTasks() {
    }

    /**
     * Digits 0-9 in any of the six faces, half of them leaned like an oblique face; in half of the images,
     * cut-off neighbouring digits at the sides, as in house-number crops (SVHN).
     */
    static final class Digits implements ImageGenerator {
        private static final List<String> CLASSES = List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9");

        @Override
        public List<String> classes() {
            return CLASSES;
        }

        @Override
        public void draw(Canvas canvas, int label, Random random) {
            Face face = Draws.pick(random, Face.values());
            Glyph glyph = Glyphs.glyph(face, (char) ('0' + label));
            double shear = random.nextBoolean() ? 0 : Draws.uniform(random, 0.12, 0.28);
            double scale = Draws.uniform(random, 13, 21) / glyph.height();
            double angle = Draws.degrees(random, -15, 15);
            double cx = Canvas.SIZE / 2.0 + Draws.uniform(random, -2.5, 2.5);
            double cy = Canvas.SIZE / 2.0 + Draws.uniform(random, -2.5, 2.5);
            Ink ink = Ink.draw(random, 0.35, 0.45, 0.06);
            canvas.fill(ink.background());
            canvas.draw(Shapes.place(Shapes.sheared(glyph.outline(), shear), cx, cy, scale, angle), ink.foreground());
            if (random.nextBoolean()) {
                double spacing = Draws.uniform(random, 1.5, 3.5);
                for (int side = -1; side <= 1; side += 2) {
                    Glyph neighbour = Glyphs.glyph(face, (char) ('0' + random.nextInt(10)));
                    double dx = side * ((glyph.width() + neighbour.width()) / 2 * scale + spacing);
                    // Along the (turned) baseline, so the three read as one line of digits.
                    double nx = cx + dx * StrictMath.cos(angle);
                    double ny = cy - dx * StrictMath.sin(angle);
                    canvas.draw(Shapes.place(Shapes.sheared(neighbour.outline(), shear), nx, ny, scale, angle),
                            ink.foreground());
                }
            }
            canvas.blur(random.nextBoolean() ? 0 : Draws.uniform(random, 0.3, 0.7));
            canvas.addNoise(random, ink.noise());
        }
    }

    /** A random letter; the class is the face: {sans, serif, mono} x {regular, bold}. */
    static final class FontStyle implements ImageGenerator {
        private static final List<String> CLASSES = List.of("sans-regular", "sans-bold", "serif-regular",
                "serif-bold", "mono-regular", "mono-bold");
        private static final Face[] FACES = {Face.SANS, Face.SANS_BOLD, Face.SERIF, Face.SERIF_BOLD, Face.MONO,
            Face.MONO_BOLD};
        /** Widest glyph extent allowed, in pixels, so wide capitals stay inside the image. */
        private static final double MAX_EXTENT = 24;

        @Override
        public List<String> classes() {
            return CLASSES;
        }

        @Override
        public void draw(Canvas canvas, int label, Random random) {
            Glyph glyph = Glyphs.glyph(FACES[label], LETTERS.charAt(random.nextInt(LETTERS.length())));
            // Scale by the em, not the glyph box, so stroke weight and proportions stay what the face makes them.
            double pixelsPerEm = Draws.uniform(random, 17, 21);
            pixelsPerEm = Math.min(pixelsPerEm, MAX_EXTENT / Math.max(glyph.width(), glyph.height()));
            double angle = Draws.degrees(random, -6, 6);
            double cx = Canvas.SIZE / 2.0 + Draws.uniform(random, -2, 2);
            double cy = Canvas.SIZE / 2.0 + Draws.uniform(random, -2, 2);
            Ink ink = Ink.draw(random, 0.3, 0.5, 0.04);
            canvas.fill(ink.background());
            canvas.draw(Shapes.place(glyph.outline(), cx, cy, pixelsPerEm, angle), ink.foreground());
            canvas.addNoise(random, ink.noise());
        }
    }

    /** Light ink on a darker ground, with some noise. */
    private record Ink(double background, double foreground, double noise) {
        static Ink draw(Random random, double maxBackground, double minContrast, double maxNoise) {
            double background = Draws.uniform(random, 0, maxBackground);
            double foreground = Draws.uniform(random, background + minContrast, 1);
            return new Ink(background, foreground, Draws.uniform(random, 0, maxNoise));
        }
    }
}
