package org.peft4j.data.vl;

import org.peft4j.data.SeededShuffle;
import org.peft4j.data.vl.Scene.Item;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Image captioning on Sort-of-CLEVR scenes of 2 or 3 objects, with {@link #CAPTIONS_PER_IMAGE}
 * different reference captions per image (as COCO has 5), lowercase words without punctuation.
 * Each caption comes from a different template, with the objects in a random order:
 *
 * <ul>
 *   <li>"a red circle and a blue square"</li>
 *   <li>"two objects a red circle and a blue square"</li>
 *   <li>"a red circle to the left of a blue square"</li>
 *   <li>"there is a blue square to the right of a red circle" (2 objects)</li>
 *   <li>"the red circle is to the left of the blue square" (with 3 objects: "... and the green triangle is above the blue square")</li>
 *   <li>"a red circle and a blue square on a black background"</li>
 * </ul>
 *
 * Relations come from the centres along the dominant axis (see {@link #relation}).
 */
public final class SceneCaptions {

    public static final int CAPTIONS_PER_IMAGE = 5;

    private interface Template {
        String fill(List<Item> order);
    }

    private static final List<Template> TWO = List.of(
            o -> "a " + w(o, 0) + " and a " + w(o, 1),
            o -> "two objects a " + w(o, 0) + " and a " + w(o, 1),
            o -> "a " + w(o, 0) + " " + relation(o.get(0), o.get(1)) + " a " + w(o, 1),
            o -> "there is a " + w(o, 0) + " " + relation(o.get(0), o.get(1)) + " a " + w(o, 1),
            o -> "the " + w(o, 0) + " is " + relation(o.get(0), o.get(1)) + " the " + w(o, 1),
            o -> "a " + w(o, 0) + " and a " + w(o, 1) + " on a black background");

    private static final List<Template> THREE = List.of(
            o -> "a " + w(o, 0) + " a " + w(o, 1) + " and a " + w(o, 2),
            o -> "three objects a " + w(o, 0) + " a " + w(o, 1) + " and a " + w(o, 2),
            o -> "a " + w(o, 0) + " " + relation(o.get(0), o.get(1)) + " a " + w(o, 1) + " and a " + w(o, 2),
            o -> "the " + w(o, 0) + " is " + relation(o.get(0), o.get(1)) + " the " + w(o, 1)
                    + " and the " + w(o, 2) + " is " + relation(o.get(2), o.get(1)) + " the " + w(o, 1),
            o -> "a " + w(o, 0) + " a " + w(o, 1) + " and a " + w(o, 2) + " on a black background");

    private SceneCaptions() {
    }

    /**
     * Where {@code a} is relative to {@code b}, along the axis their centres differ most on (x on a
     * tie): "to the left of", "to the right of", "above" or "below" (y grows downwards).
     */
    public static String relation(Item a, Item b) {
        double dx = a.x() - b.x();
        double dy = a.y() - b.y();
        if (Math.abs(dx) >= Math.abs(dy)) {
            return dx < 0 ? "to the left of" : "to the right of";
        }
        return dy < 0 ? "above" : "below";
    }

    /** Five captions of a scene with 2 or 3 objects, each from another template. */
    public static List<String> captions(Scene scene, Random random) {
        List<Template> templates = switch (scene.items().size()) {
            case 2 -> TWO;
            case 3 -> THREE;
            default -> throw new IllegalArgumentException("captions describe scenes of 2 or 3 objects, got " + scene.items().size());
        };
        List<Template> pool = new ArrayList<>(templates);
        List<String> captions = new ArrayList<>(CAPTIONS_PER_IMAGE);
        while (captions.size() < CAPTIONS_PER_IMAGE) {
            Template t = pool.remove(random.nextInt(pool.size()));
            List<Item> order = new ArrayList<>(scene.items());
            for (int i = order.size() - 1; i > 0; i--) {
                order.set(i, order.set(random.nextInt(i + 1), order.get(i)));
            }
            captions.add(t.fill(order));
        }
        return List.copyOf(captions);
    }

    /** {@code n} captioned images; image i and its captions come from the stream {@code mix(seed, i)}. */
    public static List<CaptionSample> generate(int n, long seed, int size) {
        if (n < 0) {
            throw new IllegalArgumentException("sample count must be >= 0, got " + n);
        }
        Scenes.checkSize(size);
        List<CaptionSample> samples = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Random random = new Random(SeededShuffle.mix(seed, i));
            Scene scene = Scenes.random(random, size, 2, 3);
            samples.add(new CaptionSample(Scenes.render(scene), "scene-captions-" + Long.toHexString(seed) + "-" + i,
                    captions(scene, random)));
        }
        return List.copyOf(samples);
    }

    private static String w(List<Item> order, int i) {
        return order.get(i).words();
    }
}
