package org.peft4j.data.suite;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Shape;
import org.junit.jupiter.api.Test;

class ShapesTest {
    @Test
    void placeTurnsCounterClockwiseAsSeen() {
        Shape dot = Shapes.circle(1, 0, 0.1); // local +x, one unit out
        double[] east = Shapes.centroid(Shapes.place(dot, 10, 10, 3, 0));
        double[] north = Shapes.centroid(Shapes.place(dot, 10, 10, 3, Math.PI / 2));
        assertArrayEquals(new double[] {13, 10}, east, 1e-9);
        assertArrayEquals(new double[] {10, 7}, north, 1e-9); // image y grows downwards
    }

    @Test
    void normalizedShapesHaveTheirCentroidAtTheOriginAndReachRadiusOne() {
        for (Shape shape : new Shape[] {Shapes.heart(), Shapes.polygon(0, -0.3, 1, 0, 0, 0.3), Shapes.star(5, 2, 1)}) {
            Shape n = Shapes.normalized(shape);
            assertArrayEquals(new double[] {0, 0}, Shapes.centroid(n), 1e-9);
            double[] b = Shapes.bounds(n);
            double reach = Math.max(Math.max(-b[0], b[2]), Math.max(-b[1], b[3]));
            assertTrue(reach <= 1 + 1e-9 && reach > 0.5, "reach " + reach);
        }
    }

    @Test
    void centroidOfATriangleIsTheMeanOfItsCorners() {
        assertArrayEquals(new double[] {2, 1}, Shapes.centroid(Shapes.polygon(0, 0, 6, 0, 0, 3)), 1e-12);
        assertArrayEquals(new double[] {0, 0, 6, 3}, Shapes.bounds(Shapes.polygon(0, 0, 6, 0, 0, 3)), 1e-12);
    }
}
