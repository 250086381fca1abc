package org.peft4j.data.suite;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Discs (an object's bounding circle) placed on the canvas by rejection sampling, inside it and apart. */
final class Placement {
    /** Distance an object keeps from the image border. */
    static final double BORDER = 0.5;

    /** A condition on a candidate centre beyond fitting (e.g. far enough from a reference point). */
    interface Condition {
        boolean accepts(double x, double y, double radius);
    }

    /** A placed disc. */
    record Disc(double x, double y, double radius) {
    }

    private final List<Disc> discs = new ArrayList<>();

    List<Disc> discs() {
        return List.copyOf(discs);
    }

    /** True when a disc at (x, y) lies inside the canvas and at least gap from every placed disc. */
    boolean fits(double x, double y, double radius, double gap) {
        double lo = radius + BORDER;
        double hi = Canvas.SIZE - radius - BORDER;
        if (x < lo || x > hi || y < lo || y > hi) {
            return false;
        }
        for (Disc d : discs) {
            double min = d.radius() + radius + gap;
            double dx = d.x() - x;
            double dy = d.y() - y;
            if (dx * dx + dy * dy < min * min) {
                return false;
            }
        }
        return true;
    }

    Disc add(double x, double y, double radius) {
        Disc disc = new Disc(x, y, radius);
        discs.add(disc);
        return disc;
    }

    /** Places a disc at a uniformly drawn free centre, or returns null after that many rejected draws. */
    Disc place(Random random, double radius, double gap, int attempts) {
        return place(random, radius, gap, attempts, (x, y, r) -> true);
    }

    Disc place(Random random, double radius, double gap, int attempts, Condition condition) {
        double lo = radius + BORDER;
        double hi = Canvas.SIZE - radius - BORDER;
        for (int a = 0; a < attempts; a++) {
            double x = Draws.uniform(random, lo, hi);
            double y = Draws.uniform(random, lo, hi);
            if (fits(x, y, radius, gap) && condition.accepts(x, y, radius)) {
                return add(x, y, radius);
            }
        }
        return null;
    }
}
