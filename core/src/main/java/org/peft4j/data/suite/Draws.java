package org.peft4j.data.suite;

import java.util.Random;

/** The random draws the generators share; java.util.Random's sequence is fixed by its specification. */
final class Draws {
    private Draws() {
    }

    /** Uniform in [lo, hi). */
    static double uniform(Random random, double lo, double hi) {
        return lo + (hi - lo) * random.nextDouble();
    }

    /** Uniform angle in radians between the given degrees. */
    static double degrees(Random random, double loDeg, double hiDeg) {
        return uniform(random, loDeg, hiDeg) * Math.PI / 180;
    }

    static <T> T pick(Random random, T[] options) {
        return options[random.nextInt(options.length)];
    }
}
