package org.peft4j.data.vl;

import org.junit.jupiter.api.Test;
import org.peft4j.data.vl.Scene.Colour;
import org.peft4j.data.vl.Scene.Item;
import org.peft4j.data.vl.Scene.Shape;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Relations from the dominant axis, five different captions per image, and that every stated relation holds. */
class SceneCaptionsTest {

    private static final Pattern RELATION =
            Pattern.compile("(\\w+) (\\w+) (?:is )?(to the left of|to the right of|above|below) (?:a|the) (\\w+) (\\w+)");

    @Test
    void relationFollowsTheDominantAxis() {
        Item a = new Item(Colour.RED, Shape.CIRCLE, 5.5, 10.5, 5);
        Item b = new Item(Colour.BLUE, Shape.SQUARE, 20.5, 14.5, 5);
        Item c = new Item(Colour.GREEN, Shape.TRIANGLE, 8.5, 24.5, 5);
        assertEquals("to the left of", SceneCaptions.relation(a, b));
        assertEquals("to the right of", SceneCaptions.relation(b, a));
        assertEquals("above", SceneCaptions.relation(a, c));
        assertEquals("below", SceneCaptions.relation(c, a));
    }

    @Test
    void captionsOfAHandBuiltScene() {
        Scene scene = new Scene(28, List.of(new Item(Colour.RED, Shape.CIRCLE, 5.5, 10.5, 5),
                new Item(Colour.BLUE, Shape.SQUARE, 20.5, 14.5, 5)));
        for (long seed = 0; seed < 20; seed++) {
            List<String> captions = SceneCaptions.captions(scene, new Random(seed));
            assertEquals(5, new HashSet<>(captions).size(), captions.toString());
            for (String c : captions) {
                assertTrue(c.contains("red circle") && c.contains("blue square"), c);
                assertFalse(c.contains("above") || c.contains("below"), c);
                assertFalse(c.contains("red circle to the right of") || c.contains("blue square to the left of")
                        || c.contains("red circle is to the right of") || c.contains("blue square is to the left of"), c);
            }
        }
        assertTrue(allCaptions(scene).contains("there is a blue square to the right of a red circle"));
        assertTrue(allCaptions(scene).contains("two objects a red circle and a blue square"));
    }

    private static HashSet<String> allCaptions(Scene scene) {
        HashSet<String> all = new HashSet<>();
        for (long seed = 0; seed < 50; seed++) {
            all.addAll(SceneCaptions.captions(scene, new Random(seed)));
        }
        return all;
    }

    @Test
    void everyStatedRelationHoldsOnRandomScenes() {
        Random random = new Random(42);
        int checked = 0;
        for (int s = 0; s < 200; s++) {
            Scene scene = Scenes.random(random, 28, 2, 3);
            for (String caption : SceneCaptions.captions(scene, random)) {
                assertTrue(caption.matches("[a-z ]+"), caption);
                Matcher m = RELATION.matcher(caption);
                while (m.find()) {
                    Item a = scene.item(Colour.valueOf(m.group(1).toUpperCase(Locale.ROOT)));
                    Item b = scene.item(Colour.valueOf(m.group(4).toUpperCase(Locale.ROOT)));
                    assertEquals(m.group(2), a.shape().word(), caption);
                    assertEquals(m.group(5), b.shape().word(), caption);
                    assertEquals(SceneCaptions.relation(a, b), m.group(3), caption);
                    checked++;
                }
            }
        }
        assertTrue(checked > 300, "relations checked: " + checked);
    }

    @Test
    void generateIsDeterministicPerSeed() {
        List<CaptionSample> a = SceneCaptions.generate(12, 5, 28);
        List<CaptionSample> b = SceneCaptions.generate(12, 5, 28);
        List<CaptionSample> c = SceneCaptions.generate(12, 6, 28);
        for (int i = 0; i < a.size(); i++) {
            assertArrayEquals(a.get(i).image().pixels(), b.get(i).image().pixels());
            assertEquals(a.get(i).captions(), b.get(i).captions());
            assertEquals(5, new HashSet<>(a.get(i).captions()).size());
        }
        assertFalse(Arrays.equals(a.get(0).image().pixels(), c.get(0).image().pixels()));
        assertThrows(IllegalArgumentException.class, () -> SceneCaptions.captions(
                new Scene(28, List.of(new Item(Colour.RED, Shape.CIRCLE, 5.5, 10.5, 5))), new Random(1)));
    }
}
