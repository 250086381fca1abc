package org.peft4j.data.vl;

import org.junit.jupiter.api.Test;
import org.peft4j.data.vl.Scene.Colour;
import org.peft4j.data.vl.Scene.Item;
import org.peft4j.data.vl.Scene.Shape;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every question type on a hand-checked scene; balance, annotator noise and determinism of generated sets. */
class SortOfClevrTest {

    /**
     * Squared centre distances: red-blue 226, red-green 257, red-yellow 613, blue-green 421,
     * blue-yellow 293, green-yellow 260.
     */
    private static final Scene SCENE = new Scene(28, List.of(
            new Item(Colour.RED, Shape.SQUARE, 5.5, 5.5, 7),
            new Item(Colour.BLUE, Shape.CIRCLE, 20.5, 6.5, 5),
            new Item(Colour.GREEN, Shape.TRIANGLE, 6.5, 21.5, 7),
            new Item(Colour.YELLOW, Shape.SQUARE, 22.5, 23.5, 5)));

    private static List<String> answers(Colour subject) {
        return SortOfClevr.TYPES.stream().map(t -> SortOfClevr.ask(SCENE, t, subject).answer()).toList();
    }

    @Test
    void answersEveryTypeOnAHandCheckedScene() {
        // shape, left, top, closest, farthest, count, closest-colour
        assertEquals(List.of("square", "yes", "yes", "circle", "square", "2", "blue"), answers(Colour.RED));
        assertEquals(List.of("circle", "no", "yes", "square", "triangle", "1", "red"), answers(Colour.BLUE));
        assertEquals(List.of("triangle", "yes", "no", "square", "circle", "1", "red"), answers(Colour.GREEN));
        assertEquals(List.of("square", "no", "no", "triangle", "square", "2", "green"), answers(Colour.YELLOW));
    }

    @Test
    void questionsAreTemplateWords() {
        Map<String, String> text = SortOfClevr.TYPES.stream()
                .collect(Collectors.toMap(Function.identity(), t -> SortOfClevr.ask(SCENE, t, Colour.RED).text()));
        assertEquals("what shape is the red object", text.get("shape"));
        assertEquals("is the red object on the left", text.get("left"));
        assertEquals("is the red object on the top", text.get("top"));
        assertEquals("what shape is the object closest to the red object", text.get("closest"));
        assertEquals("what shape is the object farthest from the red object", text.get("farthest"));
        assertEquals("how many objects have the same shape as the red object", text.get("count"));
        assertEquals("what colour is the object closest to the red object", text.get("closest-colour"));
        assertEquals(List.of(false, false, false, true, true, true, true),
                SortOfClevr.TYPES.stream().map(SortOfClevr::isRelational).toList());
        assertThrows(IllegalArgumentException.class, () -> SortOfClevr.ask(SCENE, "size", Colour.RED));
        assertThrows(IllegalArgumentException.class, () -> SortOfClevr.ask(SCENE, "shape", Colour.WHITE));
    }

    @Test
    void generatedSetIsBalancedNoisyAndWellFormed() {
        List<VqaSample> samples = SortOfClevr.generate(700, 3, 28);
        assertEquals(700, samples.size());
        Map<String, Integer> perType = new HashMap<>();
        int agree = 0;
        for (VqaSample s : samples) {
            perType.merge(s.questionType(), 1, Integer::sum);
            assertTrue(s.question().matches("[a-z ]+"), s.question());
            assertEquals(SortOfClevr.ANNOTATORS, s.answers().size());
            assertTrue(SortOfClevr.kind(s.questionType()).containsAll(s.answers()), s.answers().toString());
            String majority = mode(s.answers());
            agree += (int) s.answers().stream().filter(majority::equals).count();
        }
        for (String t : SortOfClevr.TYPES) {
            assertEquals(100, perType.get(t), t);
        }
        double rate = agree / 7000.0;
        assertTrue(rate > 0.87 && rate < 0.93, "annotator agreement " + rate);
        assertSame(samples.get(0).image(), samples.get(2).image());
        assertEquals(samples.get(0).imageName(), samples.get(2).imageName());
        assertNotEquals(samples.get(2).imageName(), samples.get(3).imageName());
        // Every answer type occurs, both yes and no.
        assertTrue(samples.stream().filter(s -> s.questionType().equals("left")).map(s -> mode(s.answers())).distinct().count() == 2);
    }

    private static String mode(List<String> answers) {
        return answers.stream().collect(Collectors.groupingBy(a -> a, Collectors.counting())).entrySet().stream()
                .max(Map.Entry.comparingByValue()).orElseThrow().getKey();
    }

    @Test
    void sameSeedSameSamplesAndPrefixesAgree() {
        List<VqaSample> a = SortOfClevr.generate(20, 11, 28);
        List<VqaSample> b = SortOfClevr.generate(20, 11, 28);
        List<VqaSample> shorter = SortOfClevr.generate(8, 11, 28);
        for (int i = 0; i < a.size(); i++) {
            assertArrayEquals(a.get(i).image().pixels(), b.get(i).image().pixels());
            assertEquals(describe(a.get(i)), describe(b.get(i)));
            if (i < shorter.size()) {
                assertEquals(describe(a.get(i)), describe(shorter.get(i)));
            }
        }
        List<VqaSample> other = SortOfClevr.generate(20, 12, 28);
        assertFalse(Arrays.equals(a.get(0).image().pixels(), other.get(0).image().pixels()));
        assertNotEquals(a.stream().map(SortOfClevrTest::describe).toList(), other.stream().map(SortOfClevrTest::describe).toList());
    }

    private static String describe(VqaSample s) {
        return s.imageName() + "|" + s.question() + "|" + s.questionType() + "|" + s.answers();
    }
}
