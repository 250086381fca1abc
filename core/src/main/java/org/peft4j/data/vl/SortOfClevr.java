package org.peft4j.data.vl;

import org.peft4j.data.RawImage;
import org.peft4j.data.SeededShuffle;
import org.peft4j.data.vl.Scene.Colour;
import org.peft4j.data.vl.Scene.Item;
import org.peft4j.data.vl.Scene.Shape;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Sort-of-CLEVR visual question answering (Santoro et al. 2017, "A simple neural network module for
 * relational reasoning"): template questions about one object of a generated scene, named by its
 * colour. Questions and answers are lowercase words without punctuation.
 *
 * <table>
 *   <caption>Question types</caption>
 *   <tr><th>type</th><th>question</th><th>answers</th></tr>
 *   <tr><td>shape</td><td>what shape is the red object</td><td>square, circle, triangle</td></tr>
 *   <tr><td>left</td><td>is the red object on the left</td><td>yes (centre x &lt; size/2), no</td></tr>
 *   <tr><td>top</td><td>is the red object on the top</td><td>yes (centre y &lt; size/2), no</td></tr>
 *   <tr><td>closest</td><td>what shape is the object closest to the red object</td><td>a shape</td></tr>
 *   <tr><td>farthest</td><td>what shape is the object farthest from the red object</td><td>a shape</td></tr>
 *   <tr><td>count</td><td>how many objects have the same shape as the red object</td><td>1..6</td></tr>
 *   <tr><td>closest-colour</td><td>what colour is the object closest to the red object</td><td>a colour</td></tr>
 * </table>
 *
 * The first three are non-relational, the rest relational (they need other objects). As in
 * Sort-of-CLEVR, the count includes the named object itself, so it is never 0. Distances are between
 * centres; {@link Scenes#random} draws only scenes where closest and farthest are unique.
 */
public final class SortOfClevr {

    public static final List<String> TYPES = List.of("shape", "left", "top", "closest", "farthest", "count", "closest-colour");
    private static final Set<String> RELATIONAL = Set.of("closest", "farthest", "count", "closest-colour");
    /** Each sample's image is shared by this many consecutive questions (fewer for the last image). */
    public static final int QUESTIONS_PER_IMAGE = 3;
    public static final int ANNOTATORS = 10;
    /** Chance that one annotator gives the right answer; otherwise another answer of the same kind, uniformly. */
    public static final double ANNOTATOR_ACCURACY = 0.9;

    private static final List<String> SHAPES = Arrays.stream(Shape.values()).map(Shape::word).toList();
    private static final List<String> COLOURS = Arrays.stream(Colour.values()).map(Colour::word).toList();
    private static final List<String> YES_NO = List.of("yes", "no");
    private static final List<String> COUNTS = List.of("1", "2", "3", "4", "5", "6");
    /** Every answer any question can have: a classifier head's classes. */
    public static final List<String> ANSWERS =
            Stream.of(SHAPES, YES_NO, COUNTS, COLOURS).flatMap(List::stream).toList();

    /** A question about a scene with its true answer. */
    public record Question(String text, String type, String answer) {
    }

    private SortOfClevr() {
    }

    /** Whether answering needs other objects than the named one; false for types not in {@link #TYPES}. */
    public static boolean isRelational(String type) {
        return RELATIONAL.contains(type);
    }

    /** Asks the question of that type about the object of colour {@code subject}. */
    public static Question ask(Scene scene, String type, Colour subject) {
        Item s = scene.item(subject);
        String name = "the " + subject.word() + " object";
        return switch (type) {
            case "shape" -> new Question("what shape is " + name, type, s.shape().word());
            case "left" -> new Question("is " + name + " on the left", type, yesNo(s.x() < scene.size() / 2.0));
            case "top" -> new Question("is " + name + " on the top", type, yesNo(s.y() < scene.size() / 2.0));
            case "closest" -> new Question("what shape is the object closest to " + name, type,
                    closest(scene, s, true).shape().word());
            case "farthest" -> new Question("what shape is the object farthest from " + name, type,
                    closest(scene, s, false).shape().word());
            case "count" -> new Question("how many objects have the same shape as " + name, type,
                    Long.toString(scene.items().stream().filter(o -> o.shape() == s.shape()).count()));
            case "closest-colour" -> new Question("what colour is the object closest to " + name, type,
                    closest(scene, s, true).colour().word());
            default -> throw new IllegalArgumentException("unknown question type '" + type + "'; types: " + TYPES);
        };
    }

    /**
     * {@code n} questions, the question type cycling through {@link #TYPES} (so types are balanced
     * within one), {@link #QUESTIONS_PER_IMAGE} consecutive questions per scene. Scene j, its
     * subjects and its annotator answers come from the stream {@code mix(seed, j)}, so the first k
     * samples do not depend on n. Image names are unique per seed.
     */
    public static List<VqaSample> generate(int n, long seed, int size) {
        if (n < 0) {
            throw new IllegalArgumentException("sample count must be >= 0, got " + n);
        }
        Scenes.checkSize(size);
        List<VqaSample> samples = new ArrayList<>(n);
        for (int j = 0; samples.size() < n; j++) {
            Random random = new Random(SeededShuffle.mix(seed, j));
            Scene scene = Scenes.random(random, size, 2, Scene.MAX_ITEMS);
            RawImage image = Scenes.render(scene);
            String name = "sort-of-clevr-" + Long.toHexString(seed) + "-" + j;
            for (int k = 0; k < QUESTIONS_PER_IMAGE && samples.size() < n; k++) {
                String type = TYPES.get(samples.size() % TYPES.size());
                Colour subject = scene.items().get(random.nextInt(scene.items().size())).colour();
                Question q = ask(scene, type, subject);
                samples.add(new VqaSample(image, name, q.text(), type, annotate(random, q.answer(), kind(type))));
            }
        }
        return List.copyOf(samples);
    }

    /** The answers a type can have. */
    static List<String> kind(String type) {
        return switch (type) {
            case "shape", "closest", "farthest" -> SHAPES;
            case "left", "top" -> YES_NO;
            case "count" -> COUNTS;
            case "closest-colour" -> COLOURS;
            default -> throw new IllegalArgumentException("unknown question type '" + type + "'; types: " + TYPES);
        };
    }

    private static List<String> annotate(Random random, String truth, List<String> kind) {
        List<String> wrong = kind.stream().filter(a -> !a.equals(truth)).toList();
        List<String> answers = new ArrayList<>(ANNOTATORS);
        for (int i = 0; i < ANNOTATORS; i++) {
            answers.add(random.nextDouble() < ANNOTATOR_ACCURACY ? truth : wrong.get(random.nextInt(wrong.size())));
        }
        return answers;
    }

    /** The closest (or farthest) other object; on a tie, the one listed first. */
    private static Item closest(Scene scene, Item subject, boolean nearest) {
        Item best = null;
        double bestDistance = 0;
        for (Item other : scene.items()) {
            if (other == subject) {
                continue;
            }
            double d = subject.distanceSquared(other);
            if (best == null || (nearest ? d < bestDistance : d > bestDistance)) {
                best = other;
                bestDistance = d;
            }
        }
        if (best == null) {
            throw new IllegalArgumentException("a relational question needs at least 2 objects in the scene");
        }
        return best;
    }

    private static String yesNo(boolean value) {
        return value ? "yes" : "no";
    }
}
