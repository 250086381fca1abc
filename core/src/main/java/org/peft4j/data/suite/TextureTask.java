package org.peft4j.data.suite;

import java.util.List;
import java.util.Random;
import org.peft4j.data.suite.Canvas.Field;

/**
 * Procedural textures (a DTD stand-in): the class is the pattern; period, phase, orientation jitter, edge
 * sharpness, brightness, contrast and noise are random. Periods stay at 3.5 px and above (Nyquist is 2 px).
 */
final class TextureTask implements ImageGenerator {
    private static final List<String> CLASSES = List.of("horizontal-stripes", "vertical-stripes", "diagonal-stripes",
            "checkerboard", "dots", "clouds", "waves");
    private static final double TWO_PI = 2 * Math.PI;

    @Override
    public List<String> classes() {
        return CLASSES;
    }

    @Override
    public void draw(Canvas canvas, int label, Random random) {
        Field pattern = switch (label) {
            case 0 -> stripes(random, 90);
            case 1 -> stripes(random, 0);
            case 2 -> stripes(random, random.nextBoolean() ? 45 : 135);
            case 3 -> checkerboard(random);
            case 4 -> dots(random);
            case 5 -> clouds(random);
            case 6 -> waves(random);
            default -> throw new IllegalArgumentException("textures has no class " + label);
        };
        double brightness = Draws.uniform(random, 0.3, 0.7);
        double contrast = Draws.uniform(random, 0.12, 0.3);
        canvas.paint((x, y) -> brightness + contrast * pattern.at(x, y));
        // Uneven lighting: a faint cloud field over every class, so no class is told by its mean brightness alone.
        // It is smooth, so pixel centres suffice.
        Field light = clouds(random);
        double lighting = Draws.uniform(random, 0, 0.12);
        canvas.add((x, y) -> lighting * light.at(x, y));
        canvas.addNoise(random, Draws.uniform(random, 0.01, 0.05));
    }

    /**
     * Parallel bands across the normal direction (degrees, y down), jittered by up to 18 degrees, which
     * leaves a 9-degree gap between the stripe classes' ranges.
     */
    private static Field stripes(Random random, double normalDeg) {
        double angle = Draws.degrees(random, normalDeg - 18, normalDeg + 18);
        double period = Draws.uniform(random, 3.5, 8);
        double phase = random.nextDouble();
        double sharpness = Draws.uniform(random, 0.5, 4);
        double nx = StrictMath.cos(angle);
        double ny = StrictMath.sin(angle);
        return (x, y) -> profile(StrictMath.sin(TWO_PI * ((x * nx + y * ny) / period + phase)), sharpness);
    }

    private static Field checkerboard(Random random) {
        double angle = Draws.degrees(random, -15, 15);
        double period = Draws.uniform(random, 5, 10);
        double phaseU = random.nextDouble();
        double phaseV = random.nextDouble();
        double sharpness = Draws.uniform(random, 2.5, 6);
        double c = StrictMath.cos(angle);
        double s = StrictMath.sin(angle);
        return (x, y) -> profile(StrictMath.sin(TWO_PI * ((x * c + y * s) / period + phaseU))
                * StrictMath.sin(TWO_PI * ((-x * s + y * c) / period + phaseV)), sharpness);
    }

    /** Round dots on a square or staggered grid, bright on dark or dark on bright. */
    private static Field dots(Random random) {
        double angle = Draws.degrees(random, 0, 90);
        double period = Draws.uniform(random, 4.5, 8);
        double radius = period * Draws.uniform(random, 0.18, 0.3);
        boolean staggered = random.nextBoolean();
        double polarity = random.nextBoolean() ? 1 : -1;
        double offsetU = random.nextDouble();
        double offsetV = random.nextDouble();
        double c = StrictMath.cos(angle);
        double s = StrictMath.sin(angle);
        return (x, y) -> {
            double v = (-x * s + y * c) / period + offsetV;
            double row = Math.floor(v + 0.5);
            double u = (x * c + y * s) / period + offsetU + (staggered && ((long) row & 1) == 1 ? 0.5 : 0);
            double du = (u - Math.floor(u + 0.5)) * period;
            double dv = (v - row) * period;
            double inside = Math.max(0, Math.min(1, radius - Math.sqrt(du * du + dv * dv) + 0.5));
            return polarity * (2 * inside - 1);
        };
    }

    /** A smooth random field: a few long waves in random directions. */
    private static Field clouds(Random random) {
        int n = 5;
        double[] kx = new double[n];
        double[] ky = new double[n];
        double[] phase = new double[n];
        double[] amplitude = new double[n];
        double total = 0;
        for (int i = 0; i < n; i++) {
            double angle = Draws.degrees(random, 0, 360);
            double period = Draws.uniform(random, 8, 22);
            kx[i] = StrictMath.cos(angle) / period;
            ky[i] = StrictMath.sin(angle) / period;
            phase[i] = random.nextDouble();
            amplitude[i] = Draws.uniform(random, 0.3, 1);
            total += amplitude[i];
        }
        double norm = 1.8 / total;
        return (x, y) -> {
            double sum = 0;
            for (int i = 0; i < n; i++) {
                sum += amplitude[i] * StrictMath.sin(TWO_PI * (x * kx[i] + y * ky[i] + phase[i]));
            }
            return Math.max(-1, Math.min(1, sum * norm));
        };
    }

    /** Stripes in any direction whose bands wiggle sideways. */
    private static Field waves(Random random) {
        double angle = Draws.degrees(random, 0, 180);
        double period = Draws.uniform(random, 4, 7);
        double phase = random.nextDouble();
        double amplitude = Draws.uniform(random, 1.2, 2.2);
        double wavelength = Draws.uniform(random, 9, 15);
        double wavePhase = random.nextDouble();
        double sharpness = Draws.uniform(random, 0.5, 3);
        double c = StrictMath.cos(angle);
        double s = StrictMath.sin(angle);
        return (x, y) -> {
            double u = x * c + y * s;
            double v = -x * s + y * c;
            double shifted = u + amplitude * StrictMath.sin(TWO_PI * (v / wavelength + wavePhase));
            return profile(StrictMath.sin(TWO_PI * (shifted / period + phase)), sharpness);
        };
    }

    /** A sine wave (sharpness near 0) turned towards a square wave (large sharpness), still in [-1, 1]. */
    private static double profile(double wave, double sharpness) {
        return StrictMath.tanh(sharpness * wave) / StrictMath.tanh(sharpness);
    }
}
