package org.peft4j.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** Leave-one-out VQA accuracy, the simplified official normalisation, soft targets, the accumulator. */
class VqaAccuracyTest {

    private static final double EPS = 1e-12;

    /** {@code matches} copies of "yes", the rest "no", 10 in all. */
    private static List<String> answers(int matches) {
        List<String> a = new ArrayList<>(Collections.nCopies(matches, "yes"));
        a.addAll(Collections.nCopies(10 - matches, "no"));
        return a;
    }

    @Test
    void leaveOneOutOverTenAnswers() {
        // m matches of 10: m subsets keep m - 1 matches, 10 - m keep m; each scores min(1, k/3)
        assertEquals(0.0, VqaAccuracy.score("yes", answers(0)), EPS);
        // 1: (1·0 + 9·1/3) / 10
        assertEquals(0.3, VqaAccuracy.score("yes", answers(1)), EPS);
        // 2: (2·1/3 + 8·2/3) / 10 = 2/3 · 8/10 + 1/3 · 2/10
        assertEquals(0.6, VqaAccuracy.score("yes", answers(2)), EPS);
        // 3: (3·2/3 + 7·1) / 10 — three humans are not enough for every subset of nine
        assertEquals(0.9, VqaAccuracy.score("yes", answers(3)), EPS);
        // 4: (4·1 + 6·1) / 10
        assertEquals(1.0, VqaAccuracy.score("yes", answers(4)), EPS);
        assertEquals(1.0, VqaAccuracy.score("yes", answers(10)), EPS);
    }

    @Test
    void otherAnswerCounts() {
        // one answer: exact match only
        assertEquals(1.0, VqaAccuracy.score("yes", List.of("yes")), EPS);
        assertEquals(0.0, VqaAccuracy.score("no", List.of("yes")), EPS);
        // two answers, one match: leaving out the match leaves 0, leaving out the other 1/3: (0 + 1/3) / 2
        assertEquals(1.0 / 6, VqaAccuracy.score("yes", List.of("yes", "no")), EPS);
        assertThrows(IllegalArgumentException.class, () -> VqaAccuracy.score("yes", List.of()));
    }

    @Test
    void normalisation() {
        assertEquals("dog", VqaAccuracy.normalize("  The Dog. "));
        assertEquals("2", VqaAccuracy.normalize("two"));
        assertEquals("0", VqaAccuracy.normalize("None"));
        assertEquals("red white", VqaAccuracy.normalize("red,   white"));
        assertEquals("1000", VqaAccuracy.normalize("1,000"));
        assertEquals("3.5", VqaAccuracy.normalize("3.5"));
        assertEquals("t shirt", VqaAccuracy.normalize("T-shirt"));
        assertEquals("yes", VqaAccuracy.normalize("yes!"));
        assertEquals("apple", VqaAccuracy.normalize("an apple"));
        assertEquals("man's hat", VqaAccuracy.normalize("the man's hat"));
        assertEquals("10:30", VqaAccuracy.normalize("10:30"));
        // "Two." matches four humans saying "2": 1.0
        assertEquals(1.0, VqaAccuracy.score("Two.", List.of("2", "2", "2", "2", "3", "3", "3", "3", "3", "3")), EPS);
    }

    @Test
    void softTargetsCountNormalisedAnswers() {
        Map<String, Integer> vocabulary = Map.of("yes", 0, "no", 1, "2", 2, "blue", 3);
        // yes ×3 and "Yes." → 4 → 1; no ×2 → 2/3; "two" → "2" once → 1/3; blue never → 0; maybe not in vocabulary
        List<String> answers = List.of("yes", "yes", "yes", "Yes.", "no", "no", "two", "maybe", "maybe", "maybe");
        assertArrayEquals(new float[] {1f, 2f / 3, 1f / 3, 0f}, VqaAccuracy.softTargets(answers, vocabulary), 1e-7f);
    }

    @Test
    void accumulatesOverallAndPerGroup() {
        VqaAccuracy acc = new VqaAccuracy();
        assertTrue(Double.isNaN(acc.mean()));
        assertEquals(0.6, acc.add("yes", answers(2), "yes/no"), EPS);
        assertEquals(1.0, acc.add("yes", answers(4), "yes/no"));
        assertEquals(0.3, acc.add("yes", answers(1), "number"), EPS);
        assertEquals(0.0, acc.add("no", answers(10)), EPS);
        assertEquals(4, acc.count());
        assertEquals((0.6 + 1.0 + 0.3 + 0.0) / 4, acc.mean(), EPS);
        Map<String, Double> groups = acc.groupMeans();
        assertEquals(List.of("yes/no", "number"), List.copyOf(groups.keySet()));
        assertEquals(0.8, groups.get("yes/no"), EPS);
        assertEquals(0.3, groups.get("number"), EPS);
    }
}
