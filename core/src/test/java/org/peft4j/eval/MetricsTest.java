package org.peft4j.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class MetricsTest {
    @Test
    void argmaxPerRowWithFirstMaxOnTies() {
        float[] logits = {
            0.1f, 2f, -1f,
            5f, 5f, 1f,
            -3f, -2f, -1f,
            1f, Float.NaN, 9f};
        assertArrayEquals(new int[] {1, 0, 2, 1}, Metrics.argmax(logits, 4, 3));
    }

    @Test
    void rejectsWrongShape() {
        assertThrows(IllegalArgumentException.class, () -> Metrics.argmax(new float[5], 2, 3));
        assertThrows(IllegalArgumentException.class, () -> Metrics.argmax(new float[0], 0, 0));
    }
}
