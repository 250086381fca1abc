package org.peft4j.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfusionMatrixTest {
    // actual:    0 0 0 0 1 1 2 2 2 2
    // predicted: 0 0 0 1 1 2 2 2 0 2  -> correct 3 + 1 + 3 = 7 of 10
    private static final int[] ACTUAL = {0, 0, 0, 0, 1, 1, 2, 2, 2, 2};
    private static final int[] PREDICTED = {0, 0, 0, 1, 1, 2, 2, 2, 0, 2};

    private static ConfusionMatrix handExample() {
        ConfusionMatrix cm = new ConfusionMatrix(List.of("cat", "dog", "bird", "fish"));
        cm.addAll(PREDICTED, ACTUAL);
        return cm;
    }

    @Test
    void countsAccuracyAndRecall() {
        ConfusionMatrix cm = handExample();

        assertEquals(10, cm.total());
        assertEquals(3, cm.count(0, 0));
        assertEquals(1, cm.count(0, 1));
        assertEquals(1, cm.count(1, 2));
        assertEquals(1, cm.count(2, 0));
        assertEquals(0, cm.count(1, 0));
        assertEquals(0.7, cm.accuracy(), 1e-12);
        double[] recall = cm.perClassAccuracy();
        assertArrayEquals(new double[] {0.75, 0.5, 0.75}, new double[] {recall[0], recall[1], recall[2]}, 1e-12);
        assertTrue(Double.isNaN(recall[3]), "fish has no examples");
    }

    @Test
    void jsonHasStableKeysAndNullForNaN() {
        Map<String, Object> json = handExample().toJson();

        assertEquals(List.of("accuracy", "n", "per_class", "confusion"), List.copyOf(json.keySet()));
        assertEquals(0.7, (double) json.get("accuracy"), 1e-12);
        assertEquals(10L, json.get("n"));
        Map<?, ?> perClass = (Map<?, ?>) json.get("per_class");
        assertEquals(List.of("cat", "dog", "bird", "fish"), List.copyOf(perClass.keySet()));
        assertEquals(0.5, (double) perClass.get("dog"), 1e-12);
        assertEquals(null, perClass.get("fish"));
        assertEquals(List.of(List.of(3L, 1L, 0L, 0L), List.of(0L, 1L, 1L, 0L), List.of(1L, 0L, 3L, 0L),
                List.of(0L, 0L, 0L, 0L)), json.get("confusion"));
    }

    @Test
    void formatIsAReadableTable() {
        String table = handExample().format();
        String[] lines = table.split("\n");

        assertEquals(6, lines.length, table);
        assertTrue(lines[0].contains("n=10") && lines[0].contains("70.00%"), table);
        assertTrue(lines[2].startsWith("0 cat") && lines[2].trim().endsWith("75.00%"), table);
        assertTrue(lines[2].matches("0 cat +3 +1 +0 +0 \\| +75\\.00%"), table);
        assertTrue(lines[5].startsWith("3 fish") && lines[5].trim().endsWith("n/a"), table);
        int width = lines[1].length();
        for (int i = 2; i < lines.length; i++) {
            assertEquals(width, lines[i].length(), "rows line up with the header:\n" + table);
        }
    }

    @Test
    void rejectsOutOfRangeClassesAndMismatchedArrays() {
        ConfusionMatrix cm = new ConfusionMatrix(List.of("a", "b"));
        assertThrows(IllegalArgumentException.class, () -> cm.add(2, 0));
        assertThrows(IllegalArgumentException.class, () -> cm.add(0, -1));
        assertThrows(IllegalArgumentException.class, () -> cm.addAll(new int[1], new int[2]));
        assertThrows(IllegalArgumentException.class, () -> new ConfusionMatrix(List.of("a", "a")));
        assertTrue(Double.isNaN(cm.accuracy()));
    }
}
