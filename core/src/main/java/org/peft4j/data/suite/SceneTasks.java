package org.peft4j.data.suite;

import java.awt.Shape;
import java.util.List;
import java.util.Random;

/** CLEVR-like scenes of small discs and squares: how many there are (count), how near the nearest is (distance). */
final class SceneTasks {
    private static final int ATTEMPTS = 200;

    private SceneTasks() {
    }

    /** 1-6 objects, apart from each other (so they can be counted); class "n" has n objects. */
    static final class Count implements ImageGenerator {
        static final int MAX = 6;
        /** Clear space between objects, wide enough that no pixel touches two of them. */
        static final double GAP = 3;
        private static final List<String> CLASSES = List.of("1", "2", "3", "4", "5", "6");
        private static final int LAYOUT_TRIES = 20;

        @Override
        public List<String> classes() {
            return CLASSES;
        }

        @Override
        public void draw(Canvas canvas, int label, Random random) {
            int n = label + 1;
            double background = Draws.uniform(random, 0, 0.15);
            canvas.fill(background);
            // Redraw the whole layout if an object finds no room; after LAYOUT_TRIES layouts, shrink the objects.
            Placement placement = null;
            double shrink = 1;
            for (int layout = 0; placement == null; layout++) {
                if (layout > 0 && layout % LAYOUT_TRIES == 0) {
                    shrink *= 0.8;
                }
                placement = layout(random, n, shrink);
            }
            for (Placement.Disc d : placement.discs()) {
                double intensity = Draws.uniform(random, background + 0.4, 1);
                canvas.draw(object(random, d), intensity);
            }
            canvas.addNoise(random, Draws.uniform(random, 0.005, 0.02));
        }

        private static Placement layout(Random random, int n, double shrink) {
            Placement placement = new Placement();
            for (int i = 0; i < n; i++) {
                if (placement.place(random, shrink * Draws.uniform(random, 1.6, 3), GAP, ATTEMPTS) == null) {
                    return null;
                }
            }
            return placement;
        }
    }

    /**
     * 1-3 discs; the class is the distance from the bottom-centre of the image to the nearest disc's edge, in
     * 5 bins of 4 px. The distance is drawn from the class's bin first and the nearest disc placed at it, the
     * others only where they are clearly farther, so every bin is equally likely and reachable.
     */
    static final class Distance implements ImageGenerator {
        static final double[] EDGES = {0.5, 4.5, 8.5, 12.5, 16.5, 20.5};
        static final double REF_X = Canvas.SIZE / 2.0;
        static final double REF_Y = Canvas.SIZE;
        /** Every other disc is at least this much farther than the nearest one. */
        static final double MARGIN = 2;
        static final double MIN_RADIUS = 1.5;
        static final double MAX_RADIUS = 3.5;
        private static final List<String> CLASSES = List.of("0.5-4.5px", "4.5-8.5px", "8.5-12.5px", "12.5-16.5px",
                "16.5-20.5px");

        @Override
        public List<String> classes() {
            return CLASSES;
        }

        @Override
        public void draw(Canvas canvas, int label, Random random) {
            double background = Draws.uniform(random, 0, 0.15);
            canvas.fill(background);
            double nearest = Draws.uniform(random, EDGES[label], EDGES[label + 1]);
            Placement placement = new Placement();
            placeNearest(placement, random, nearest, Draws.uniform(random, MIN_RADIUS, MAX_RADIUS));
            int others = random.nextInt(3);
            for (int i = 0; i < others; i++) {
                placement.place(random, Draws.uniform(random, MIN_RADIUS, MAX_RADIUS), 1.5, ATTEMPTS,
                        (x, y, r) -> edgeDistance(x, y, r) >= nearest + MARGIN);
            }
            for (Placement.Disc d : placement.discs()) {
                canvas.draw(Shapes.circle(d.x(), d.y(), d.radius()), Draws.uniform(random, background + 0.4, 1));
            }
            canvas.addNoise(random, Draws.uniform(random, 0.005, 0.02));
        }

        /** Distance from the reference point to the nearest point of a disc. */
        static double edgeDistance(double x, double y, double radius) {
            double dx = x - REF_X;
            double dy = y - REF_Y;
            return Math.sqrt(dx * dx + dy * dy) - radius;
        }

        /**
         * A disc whose edge is at the distance, in a random upward direction that keeps it inside the image;
         * straight up always does, since the largest distance plus a diameter fits in the image's height.
         */
        private static void placeNearest(Placement placement, Random random, double distance, double radius) {
            double reach = distance + radius;
            for (int a = 0; a < ATTEMPTS; a++) {
                double angle = Draws.degrees(random, 0, 180);
                double x = REF_X + reach * StrictMath.cos(angle);
                double y = REF_Y - reach * StrictMath.sin(angle);
                if (placement.fits(x, y, radius, 0)) {
                    placement.add(x, y, radius);
                    return;
                }
            }
            placement.add(REF_X, REF_Y - reach, radius);
        }
    }

    /** A disc or a turned square inside the placed disc. */
    private static Shape object(Random random, Placement.Disc d) {
        if (random.nextBoolean()) {
            return Shapes.circle(d.x(), d.y(), d.radius());
        }
        double half = d.radius() / Math.sqrt(2);
        Shape square = Shapes.polygon(-half, -half, half, -half, half, half, -half, half);
        return Shapes.place(square, d.x(), d.y(), 1, Draws.degrees(random, 0, 90));
    }
}
