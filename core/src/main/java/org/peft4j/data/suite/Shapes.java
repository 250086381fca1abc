package org.peft4j.data.suite;

import java.awt.Shape;
import java.awt.geom.AffineTransform;
import java.awt.geom.Path2D;
import java.awt.geom.PathIterator;

/**
 * Shapes in local coordinates (y up, centred on the origin) and their placement on the canvas (y down).
 * Circles and curves are polygons computed here with StrictMath, so no JDK curve code decides a vertex.
 */
final class Shapes {
    private static final int ROUND_VERTICES = 64;
    /** Flatness for measuring outlines (centroids, radii, bounds), in local units. */
    private static final double MEASURE_FLATNESS = 1e-3;

    private Shapes() {
    }

    /** A closed polygon through the points x0, y0, x1, y1, ... */
    static Path2D.Double polygon(double... xy) {
        Path2D.Double path = new Path2D.Double(Path2D.WIND_NON_ZERO);
        path.moveTo(xy[0], xy[1]);
        for (int i = 2; i < xy.length; i += 2) {
            path.lineTo(xy[i], xy[i + 1]);
        }
        path.closePath();
        return path;
    }

    /** An ellipse with semi-axes a (along x) and b, centred at (cx, cy). */
    static Path2D.Double ellipse(double cx, double cy, double a, double b) {
        double[] xy = new double[2 * ROUND_VERTICES];
        for (int i = 0; i < ROUND_VERTICES; i++) {
            double t = 2 * Math.PI * i / ROUND_VERTICES;
            xy[2 * i] = cx + a * StrictMath.cos(t);
            xy[2 * i + 1] = cy + b * StrictMath.sin(t);
        }
        return polygon(xy);
    }

    static Path2D.Double circle(double cx, double cy, double r) {
        return ellipse(cx, cy, r, r);
    }

    /** A star with n points: vertices alternate between radius outer and inner. */
    static Path2D.Double star(int n, double outer, double inner) {
        double[] xy = new double[4 * n];
        for (int i = 0; i < 2 * n; i++) {
            double r = i % 2 == 0 ? outer : inner;
            double t = Math.PI * i / n;
            xy[2 * i] = r * StrictMath.cos(t);
            xy[2 * i + 1] = r * StrictMath.sin(t);
        }
        return polygon(xy);
    }

    /** The classic heart curve x = 16 sin^3 t, y = 13 cos t - 5 cos 2t - 2 cos 3t - cos 4t. */
    static Path2D.Double heart() {
        double[] xy = new double[2 * ROUND_VERTICES];
        for (int i = 0; i < ROUND_VERTICES; i++) {
            double t = 2 * Math.PI * i / ROUND_VERTICES;
            double s = StrictMath.sin(t);
            xy[2 * i] = 16 * s * s * s;
            xy[2 * i + 1] = 13 * StrictMath.cos(t) - 5 * StrictMath.cos(2 * t) - 2 * StrictMath.cos(3 * t)
                    - StrictMath.cos(4 * t);
        }
        return polygon(xy);
    }

    /**
     * The shape moved so its area centroid is the origin and scaled so every point lies within radius 1 of it:
     * a sprite of "size" r then fits in a circle of radius r around its position, and its position is where
     * the mass of its pixels is.
     */
    static Shape normalized(Shape shape) {
        double[] centroid = centroid(shape);
        AffineTransform toOrigin = AffineTransform.getTranslateInstance(-centroid[0], -centroid[1]);
        Shape centred = toOrigin.createTransformedShape(shape);
        double scale = 1.0 / maxRadius(centred);
        return AffineTransform.getScaleInstance(scale, scale).createTransformedShape(centred);
    }

    /**
     * Local shape (y up) drawn on the canvas with its origin at (cx, cy), scaled, and turned counter-clockwise
     * (as seen) by angle radians: local +x points along the angle, local +y 90 degrees further.
     */
    static Shape place(Shape local, double cx, double cy, double scale, double angle) {
        double c = StrictMath.cos(angle) * scale;
        double s = StrictMath.sin(angle) * scale;
        return new AffineTransform(c, -s, -s, -c, cx, cy).createTransformedShape(local);
    }

    /** Leans the shape right by k per unit height (an oblique face from an upright one). */
    static Shape sheared(Shape local, double k) {
        return k == 0 ? local : AffineTransform.getShearInstance(k, 0).createTransformedShape(local);
    }

    /** Bounds {minX, minY, maxX, maxY} of the outline itself (some JDKs' Path2D.getBounds2D add control points). */
    static double[] bounds(Shape shape) {
        double[] b = {Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY,
            Double.NEGATIVE_INFINITY};
        double[] c = new double[6];
        for (PathIterator it = shape.getPathIterator(null, MEASURE_FLATNESS); !it.isDone(); it.next()) {
            if (it.currentSegment(c) != PathIterator.SEG_CLOSE) {
                b[0] = Math.min(b[0], c[0]);
                b[1] = Math.min(b[1], c[1]);
                b[2] = Math.max(b[2], c[0]);
                b[3] = Math.max(b[3], c[1]);
            }
        }
        return b;
    }

    /** Area centroid of a simple (non-self-intersecting) outline, by the shoelace formula over its sub-paths. */
    static double[] centroid(Shape shape) {
        double area = 0;
        double cx = 0;
        double cy = 0;
        double[] c = new double[6];
        double startX = 0;
        double startY = 0;
        double lastX = 0;
        double lastY = 0;
        for (PathIterator it = shape.getPathIterator(null, MEASURE_FLATNESS); !it.isDone(); it.next()) {
            int type = it.currentSegment(c);
            double x = type == PathIterator.SEG_CLOSE ? startX : c[0];
            double y = type == PathIterator.SEG_CLOSE ? startY : c[1];
            if (type == PathIterator.SEG_MOVETO) {
                startX = x;
                startY = y;
            } else {
                double cross = lastX * y - x * lastY;
                area += cross;
                cx += (lastX + x) * cross;
                cy += (lastY + y) * cross;
            }
            lastX = x;
            lastY = y;
        }
        return new double[] {cx / (3 * area), cy / (3 * area)};
    }

    private static double maxRadius(Shape centred) {
        double max = 0;
        double[] c = new double[6];
        for (PathIterator it = centred.getPathIterator(null, MEASURE_FLATNESS); !it.isDone(); it.next()) {
            if (it.currentSegment(c) != PathIterator.SEG_CLOSE) {
                max = Math.max(max, Math.sqrt(c[0] * c[0] + c[1] * c[1]));
            }
        }
        return max;
    }
}
