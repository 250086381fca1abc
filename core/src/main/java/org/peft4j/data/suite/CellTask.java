package org.peft4j.data.suite;

import java.awt.Shape;
import java.util.List;
import java.util.Random;

/**
 * Microscopy-like fields: 1-4 cells of one morphology (the class) on a noisy, unevenly lit background,
 * blurred like an out-of-focus objective. Size, orientation, brightness, placement and count are random.
 */
final class CellTask implements ImageGenerator {
    private static final List<String> CLASSES = List.of("round", "elongated", "budding", "nucleated", "spiky");
    private static final double GAP = 1.0;
    private static final int ATTEMPTS = 100;

    @Override
    public List<String> classes() {
        return CLASSES;
    }

    @Override
    public void draw(Canvas canvas, int label, Random random) {
        double background = Draws.uniform(random, 0.05, 0.2);
        canvas.fill(background);
        double slope = Draws.uniform(random, 0.03, 0.12) / Canvas.SIZE;
        double lightAngle = Draws.degrees(random, 0, 360);
        double lx = StrictMath.cos(lightAngle) * slope;
        double ly = StrictMath.sin(lightAngle) * slope;
        double mid = Canvas.SIZE / 2.0;
        canvas.add((x, y) -> (x - mid) * lx + (y - mid) * ly);

        int cells = 1 + random.nextInt(4);
        double brightness = Draws.uniform(random, 0.55, 0.9);
        Placement placement = new Placement();
        for (int i = 0; i < cells; i++) {
            // The first cell always fits: an empty canvas has room for the largest.
            drawCell(canvas, placement, label, background, brightness * Draws.uniform(random, 0.85, 1.1), random);
        }
        canvas.blur(Draws.uniform(random, 0.4, 0.7));
        canvas.addNoise(random, Draws.uniform(random, 0.015, 0.04));
    }

    private static void drawCell(Canvas canvas, Placement placement, int label, double background, double intensity,
            Random random) {
        double angle = Draws.degrees(random, 0, 360);
        switch (label) {
            case 0 -> { // round: a near-circle
                double r = Draws.uniform(random, 2.8, 4.2);
                Placement.Disc at = placement.place(random, r, GAP, ATTEMPTS);
                if (at != null) {
                    double squash = Draws.uniform(random, 0.85, 1);
                    canvas.draw(Shapes.place(Shapes.ellipse(0, 0, 1, squash), at.x(), at.y(), r, angle), intensity);
                }
            }
            case 1 -> { // elongated: a rod 2-3 times as long as wide
                double r = Draws.uniform(random, 4, 6);
                Placement.Disc at = placement.place(random, r, GAP, ATTEMPTS);
                if (at != null) {
                    double width = Draws.uniform(random, 0.33, 0.5);
                    canvas.draw(Shapes.place(Shapes.ellipse(0, 0, 1, width), at.x(), at.y(), r, angle), intensity);
                }
            }
            case 2 -> { // budding: a mother cell with a smaller bud on its rim
                double mother = Draws.uniform(random, 2.8, 3.8);
                double bud = mother * Draws.uniform(random, 0.45, 0.65);
                double offset = mother + 0.5 * bud;
                // The bounding disc spans from the mother's far rim to the bud's; the mother sits behind its centre.
                Placement.Disc at = placement.place(random, (mother + offset + bud) / 2, GAP, ATTEMPTS);
                if (at != null) {
                    double back = (offset + bud - mother) / 2;
                    Shape cell = Shapes.circle(-back, 0, mother);
                    Shape budShape = Shapes.circle(offset - back, 0, bud);
                    canvas.draw(Shapes.place(cell, at.x(), at.y(), 1, angle), intensity);
                    canvas.draw(Shapes.place(budShape, at.x(), at.y(), 1, angle), intensity);
                }
            }
            case 3 -> { // nucleated: dim cytoplasm around one or two bright nuclei
                double r = Draws.uniform(random, 3.6, 5);
                Placement.Disc at = placement.place(random, r, GAP, ATTEMPTS);
                if (at != null) {
                    double squash = Draws.uniform(random, 0.8, 1);
                    canvas.draw(Shapes.place(Shapes.ellipse(0, 0, 1, squash), at.x(), at.y(), r, angle),
                            background + 0.45 * (intensity - background));
                    int nuclei = 1 + random.nextInt(2);
                    double nucleus = Draws.uniform(random, 0.3, 0.4);
                    double spread = nuclei == 1 ? Draws.uniform(random, 0, 0.25) : 0.42;
                    for (int k = 0; k < nuclei; k++) {
                        double side = k == 0 ? spread : -spread;
                        canvas.draw(Shapes.place(Shapes.circle(side, 0, nucleus), at.x(), at.y(), r, angle),
                                Math.min(1, intensity * 1.15));
                    }
                }
            }
            case 4 -> { // spiky: a star with 5-8 points
                double r = Draws.uniform(random, 4, 5.5);
                Placement.Disc at = placement.place(random, r, GAP, ATTEMPTS);
                if (at != null) {
                    Shape star = Shapes.star(5 + random.nextInt(4), 1, Draws.uniform(random, 0.38, 0.52));
                    canvas.draw(Shapes.place(star, at.x(), at.y(), r, angle), intensity);
                }
            }
            default -> throw new IllegalArgumentException("cells has no class " + label);
        }
    }
}
