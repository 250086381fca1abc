package org.peft4j.data.suite;

import java.awt.Shape;
import java.awt.geom.PathIterator;
import java.util.Arrays;
import java.util.Random;

/**
 * A 28x28 gray image being drawn: double intensities, 0 black to 1 white, row-major, pixel (x, y) covering
 * [x, x+1) x [y, y+1). Shapes are filled by our own anti-aliased scanline rasterizer rather than Graphics2D,
 * whose output depends on the JDK's renderer (Marlin's version, its tuning); double arithmetic is strict in
 * Java 17 and the transcendental functions used by the generators are StrictMath, so an image is the same
 * bytes on every machine.
 */
final class Canvas {
    static final int SIZE = 28;
    /** Sample rows per pixel row when filling shapes; horizontal coverage is exact. */
    private static final int SUB_ROWS = 16;
    /** Curves are flattened to lines deviating at most this many pixels. */
    private static final double FLATNESS = 0.01;

    /** A function of continuous image coordinates (pixel centres at x + 0.5, y + 0.5). */
    interface Field {
        double at(double x, double y);
    }

    private final double[] values = new double[SIZE * SIZE];

    void fill(double value) {
        Arrays.fill(values, value);
    }

    /** Sets every pixel to the field's mean over 2x2 points inside it, which tames aliasing of sharp patterns. */
    void paint(Field field) {
        for (int y = 0; y < SIZE; y++) {
            for (int x = 0; x < SIZE; x++) {
                values[y * SIZE + x] = 0.25 * (field.at(x + 0.25, y + 0.25) + field.at(x + 0.75, y + 0.25)
                        + field.at(x + 0.25, y + 0.75) + field.at(x + 0.75, y + 0.75));
            }
        }
    }

    /** Adds the field sampled at pixel centres (illumination gradients). */
    void add(Field field) {
        for (int y = 0; y < SIZE; y++) {
            for (int x = 0; x < SIZE; x++) {
                values[y * SIZE + x] += field.at(x + 0.5, y + 0.5);
            }
        }
    }

    /** Paints the shape (image coordinates, y down) in the intensity, blending by the pixel's covered area. */
    void draw(Shape shape, double intensity) {
        double[] coverage = coverage(shape);
        for (int i = 0; i < values.length; i++) {
            double a = Math.min(coverage[i], 1.0);
            values[i] += a * (intensity - values[i]);
        }
    }

    /** Separable Gaussian blur, edges clamped. */
    void blur(double sigma) {
        if (sigma <= 0) {
            return;
        }
        int radius = (int) Math.ceil(3 * sigma);
        double[] kernel = new double[2 * radius + 1];
        double sum = 0;
        for (int k = -radius; k <= radius; k++) {
            kernel[k + radius] = StrictMath.exp(-0.5 * k * k / (sigma * sigma));
            sum += kernel[k + radius];
        }
        for (int k = 0; k < kernel.length; k++) {
            kernel[k] /= sum;
        }
        double[] tmp = new double[values.length];
        for (int y = 0; y < SIZE; y++) {
            for (int x = 0; x < SIZE; x++) {
                double acc = 0;
                for (int k = -radius; k <= radius; k++) {
                    acc += kernel[k + radius] * values[y * SIZE + clamp(x + k)];
                }
                tmp[y * SIZE + x] = acc;
            }
        }
        for (int y = 0; y < SIZE; y++) {
            for (int x = 0; x < SIZE; x++) {
                double acc = 0;
                for (int k = -radius; k <= radius; k++) {
                    acc += kernel[k + radius] * tmp[clamp(y + k) * SIZE + x];
                }
                values[y * SIZE + x] = acc;
            }
        }
    }

    /** Adds independent Gaussian noise (java.util.Random's nextGaussian is specified exactly, with StrictMath). */
    void addNoise(Random random, double sigma) {
        for (int i = 0; i < values.length; i++) {
            values[i] += sigma * random.nextGaussian();
        }
    }

    /** Clamped to [0, 1] and rounded to 0..255. */
    byte[] toBytes() {
        byte[] bytes = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            bytes[i] = (byte) Math.round(Math.max(0.0, Math.min(1.0, values[i])) * 255);
        }
        return bytes;
    }

    private static int clamp(int i) {
        return Math.max(0, Math.min(SIZE - 1, i));
    }

    /**
     * Fraction of each pixel the shape covers: SUB_ROWS sample lines per pixel row, each crossing the shape's
     * edges in spans whose exact horizontal overlap with every pixel is added. Honours the shape's winding rule.
     */
    static double[] coverage(Shape shape) {
        double[] edges = flatten(shape);
        int numEdges = edges.length / 4;
        boolean evenOdd = shape.getPathIterator(null).getWindingRule() == PathIterator.WIND_EVEN_ODD;
        double[] coverage = new double[SIZE * SIZE];
        double[] crossX = new double[numEdges];
        int[] crossDir = new int[numEdges];
        double weight = 1.0 / SUB_ROWS;
        double minY = Double.POSITIVE_INFINITY;
        double maxY = Double.NEGATIVE_INFINITY;
        for (int e = 0; e < numEdges; e++) {
            minY = Math.min(minY, Math.min(edges[4 * e + 1], edges[4 * e + 3]));
            maxY = Math.max(maxY, Math.max(edges[4 * e + 1], edges[4 * e + 3]));
        }
        int firstRow = (int) Math.max(0, Math.floor(minY));
        int endRow = (int) Math.min(SIZE, Math.ceil(maxY));
        for (int row = firstRow; row < endRow; row++) {
            for (int s = 0; s < SUB_ROWS; s++) {
                double sy = row + (s + 0.5) / SUB_ROWS;
                int n = 0;
                for (int e = 0; e < numEdges; e++) {
                    double x0 = edges[4 * e];
                    double y0 = edges[4 * e + 1];
                    double x1 = edges[4 * e + 2];
                    double y1 = edges[4 * e + 3];
                    if (y0 == y1 || sy < Math.min(y0, y1) || sy >= Math.max(y0, y1)) {
                        continue;
                    }
                    double x = x0 + (sy - y0) * (x1 - x0) / (y1 - y0);
                    int dir = y1 > y0 ? 1 : -1;
                    int j = n++;
                    while (j > 0 && crossX[j - 1] > x) {
                        crossX[j] = crossX[j - 1];
                        crossDir[j] = crossDir[j - 1];
                        j--;
                    }
                    crossX[j] = x;
                    crossDir[j] = dir;
                }
                int winding = 0;
                for (int c = 0; c < n - 1; c++) {
                    winding += crossDir[c];
                    boolean inside = evenOdd ? (c + 1) % 2 == 1 : winding != 0;
                    if (inside) {
                        addSpan(coverage, row, crossX[c], crossX[c + 1], weight);
                    }
                }
            }
        }
        return coverage;
    }

    private static void addSpan(double[] coverage, int row, double from, double to, double weight) {
        double a = Math.max(from, 0);
        double b = Math.min(to, SIZE);
        if (b <= a) {
            return;
        }
        int ia = (int) a;
        int ib = (int) b;
        int base = row * SIZE;
        if (ia == ib) {
            coverage[base + ia] += (b - a) * weight;
            return;
        }
        coverage[base + ia] += (ia + 1 - a) * weight;
        for (int i = ia + 1; i < ib; i++) {
            coverage[base + i] += weight;
        }
        if (ib < SIZE) {
            coverage[base + ib] += (b - ib) * weight;
        }
    }

    /** The shape's outline as line segments x0, y0, x1, y1 (every sub-path closed). */
    private static double[] flatten(Shape shape) {
        double[] edges = new double[64];
        int count = 0;
        double[] c = new double[6];
        double startX = 0;
        double startY = 0;
        double lastX = 0;
        double lastY = 0;
        for (PathIterator it = shape.getPathIterator(null, FLATNESS); !it.isDone(); it.next()) {
            int type = it.currentSegment(c);
            double toX = type == PathIterator.SEG_CLOSE ? startX : c[0];
            double toY = type == PathIterator.SEG_CLOSE ? startY : c[1];
            if (type == PathIterator.SEG_MOVETO) {
                edges = grow(edges, count + 4);
                count = addEdge(edges, count, lastX, lastY, startX, startY);
                startX = toX;
                startY = toY;
            } else {
                edges = grow(edges, count + 4);
                count = addEdge(edges, count, lastX, lastY, toX, toY);
            }
            lastX = toX;
            lastY = toY;
        }
        edges = grow(edges, count + 4);
        count = addEdge(edges, count, lastX, lastY, startX, startY);
        return Arrays.copyOf(edges, count);
    }

    private static double[] grow(double[] edges, int needed) {
        return needed <= edges.length ? edges : Arrays.copyOf(edges, Math.max(needed, 2 * edges.length));
    }

    private static int addEdge(double[] edges, int count, double x0, double y0, double x1, double y1) {
        if (y0 == y1) {
            return count; // horizontal (or empty) edges never cross a sample line
        }
        edges[count] = x0;
        edges[count + 1] = y0;
        edges[count + 2] = x1;
        edges[count + 3] = y1;
        return count + 4;
    }
}
