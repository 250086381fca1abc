package org.peft4j.data.suite;

import java.awt.Shape;
import java.util.List;
import java.util.Random;

/**
 * dSprites-like tasks: one white sprite on black. Every sprite is normalized (area centroid at its position,
 * all of it within its size of that point), so position and orientation are properties of the pixels.
 */
final class SpriteTasks {
    private SpriteTasks() {
    }

    /** Which of 8 equal bins of the usable x range the sprite's centre is in. */
    static final class Location implements ImageGenerator {
        static final int BINS = 8;
        static final double MAX_SIZE = 4.5;
        /** Sprite centres range over [LO, HI): a sprite of the largest size still fits inside the image. */
        static final double LO = MAX_SIZE;
        static final double HI = Canvas.SIZE - MAX_SIZE;
        private static final List<String> CLASSES = List.of("x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7");
        // dSprites' shapes: square, ellipse, heart.
        private static final Shape[] SHAPES = {
            Shapes.normalized(Shapes.polygon(-1, -1, 1, -1, 1, 1, -1, 1)),
            Shapes.normalized(Shapes.ellipse(0, 0, 1, 0.5)),
            Shapes.normalized(Shapes.heart()),
        };

        @Override
        public List<String> classes() {
            return CLASSES;
        }

        @Override
        public void draw(Canvas canvas, int label, Random random) {
            double binWidth = (HI - LO) / BINS;
            double x = LO + (label + random.nextDouble()) * binWidth;
            double y = Draws.uniform(random, LO, HI);
            Shape sprite = Draws.pick(random, SHAPES);
            double size = Draws.uniform(random, 3, MAX_SIZE);
            double angle = Draws.degrees(random, 0, 360);
            canvas.draw(Shapes.place(sprite, x, y, size, angle), Draws.uniform(random, 0.75, 1));
        }
    }

    /**
     * Which way an asymmetric sprite points, in 8 bins of 45 degrees centred on the compass directions
     * (counter-clockwise from east, image up = north). The sprites all taper towards the way they point.
     */
    static final class Orientation implements ImageGenerator {
        static final int BINS = 8;
        private static final List<String> CLASSES = List.of("east", "north-east", "north", "north-west", "west",
                "south-west", "south", "south-east");
        private static final Shape[] SHAPES = {
            Shapes.normalized(Shapes.polygon(0, -0.3, 1, 0, 0, 0.3)), // wedge
            Shapes.normalized(Shapes.polygon(0, -0.45, 1, 0, 0, 0.45, 0.35, 0)), // dart, notched at the back
            Shapes.normalized(teardrop()),
        };

        @Override
        public List<String> classes() {
            return CLASSES;
        }

        @Override
        public void draw(Canvas canvas, int label, Random random) {
            double angle = Draws.degrees(random, 45 * label - 22.5, 45 * label + 22.5);
            Shape sprite = Draws.pick(random, SHAPES);
            double size = Draws.uniform(random, 6, 9);
            double x = Draws.uniform(random, size + Placement.BORDER, Canvas.SIZE - size - Placement.BORDER);
            double y = Draws.uniform(random, size + Placement.BORDER, Canvas.SIZE - size - Placement.BORDER);
            canvas.draw(Shapes.place(sprite, x, y, size, angle), Draws.uniform(random, 0.75, 1));
        }

        /** A round back (radius 1 at the origin) drawn out to a point at (3.4, 0). */
        private static Shape teardrop() {
            double tip = 3.4;
            double tangent = StrictMath.acos(1 / tip); // where the lines from the tip touch the circle
            int steps = 48;
            double[] xy = new double[2 * (steps + 2)];
            xy[0] = tip;
            xy[1] = 0;
            for (int i = 0; i <= steps; i++) {
                double t = tangent + (2 * Math.PI - 2 * tangent) * i / steps;
                xy[2 * i + 2] = StrictMath.cos(t);
                xy[2 * i + 3] = StrictMath.sin(t);
            }
            return Shapes.polygon(xy);
        }
    }
}
