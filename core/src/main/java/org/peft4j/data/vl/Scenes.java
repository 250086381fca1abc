package org.peft4j.data.vl;

import org.peft4j.data.RawImage;
import org.peft4j.data.vl.Scene.Colour;
import org.peft4j.data.vl.Scene.Item;
import org.peft4j.data.vl.Scene.Shape;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Draws and renders Sort-of-CLEVR scenes (Santoro et al. 2017): 2 to 6 flat objects on black, each
 * colour at most once, shapes square, circle and triangle. Everything is integer or exact
 * half-integer arithmetic, so a scene and its pixels are the same on every machine.
 */
public final class Scenes {

    /** The default ViT's input side. */
    public static final int DEFAULT_SIZE = 28;
    public static final int MIN_SIZE = 24;
    public static final int MAX_SIZE = 512;
    /** Clear pixels between two bounding boxes, so no object touches another. */
    static final int GAP = 2;
    private static final int TRIES_PER_ITEM = 50;
    /** Layouts drawn before the largest allowed side shrinks by 2 px. */
    private static final int LAYOUTS_PER_SIDE = 20;
    private static final int MAX_LAYOUTS = 2000;

    private Scenes() {
    }

    /**
     * A random scene of {@code minItems..maxItems} objects with distinct colours. Sides are odd (so
     * a triangle is symmetric), 5..7 px at 28 px and a fifth to a quarter of the image at larger
     * sizes; top-left corners are whole pixels anywhere in the image. Layouts are redrawn until, for
     * every object, the closest and the farthest other object are unique, so relational questions
     * have one answer.
     */
    public static Scene random(Random random, int size, int minItems, int maxItems) {
        checkSize(size);
        if (minItems < 1 || maxItems > Scene.MAX_ITEMS || minItems > maxItems) {
            throw new IllegalArgumentException("objects per scene must be within 1.." + Scene.MAX_ITEMS + ", got "
                    + minItems + ".." + maxItems);
        }
        int n = minItems + random.nextInt(maxItems - minItems + 1);
        List<Colour> colours = new ArrayList<>(Arrays.asList(Colour.values()));
        List<Colour> chosen = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            chosen.add(colours.remove(random.nextInt(colours.size())));
        }
        Shape[] shapes = Shape.values();
        int minSide = minSide(size);
        int maxSide = maxSide(size);
        for (int layout = 0; layout < MAX_LAYOUTS; layout++) {
            if (layout > 0 && layout % LAYOUTS_PER_SIDE == 0 && maxSide > minSide) {
                maxSide -= 2;
            }
            List<Item> items = new ArrayList<>();
            for (Colour colour : chosen) {
                Shape shape = shapes[random.nextInt(shapes.length)];
                int side = minSide + 2 * random.nextInt((maxSide - minSide) / 2 + 1);
                Item item = place(random, size, colour, shape, side, items);
                if (item == null) {
                    break;
                }
                items.add(item);
            }
            if (items.size() == n && relationsUnique(items)) {
                return new Scene(size, items);
            }
        }
        throw new IllegalStateException("no layout of " + n + " objects found in a " + size + "px image");
    }

    /** Black background, each object filled where its shape covers the pixel centre. */
    public static RawImage render(Scene scene) {
        int size = scene.size();
        byte[] pixels = new byte[size * size * 3];
        for (Item item : scene.items()) {
            int x0 = Math.max(0, (int) Math.floor(item.left()));
            int y0 = Math.max(0, (int) Math.floor(item.top()));
            int x1 = Math.min(size - 1, (int) Math.ceil(item.left() + item.side()));
            int y1 = Math.min(size - 1, (int) Math.ceil(item.top() + item.side()));
            for (int y = y0; y <= y1; y++) {
                for (int x = x0; x <= x1; x++) {
                    if (covers(item, x + 0.5, y + 0.5)) {
                        int at = 3 * (y * size + x);
                        pixels[at] = (byte) item.colour().red();
                        pixels[at + 1] = (byte) item.colour().green();
                        pixels[at + 2] = (byte) item.colour().blue();
                    }
                }
            }
        }
        return new RawImage(size, size, 3, pixels);
    }

    static boolean covers(Item item, double px, double py) {
        double half = item.side() / 2.0;
        double dx = px - item.x();
        double dy = py - item.y();
        return switch (item.shape()) {
            case SQUARE -> Math.abs(dx) <= half && Math.abs(dy) <= half;
            case CIRCLE -> dx * dx + dy * dy <= half * half;
            // Apex at the top centre, base along the bottom edge: half-width grows by 1/2 px per px down.
            case TRIANGLE -> Math.abs(dy) <= half && Math.abs(dx) <= (dy + half) / 2;
        };
    }

    static void checkSize(int size) {
        if (size < MIN_SIZE || size > MAX_SIZE) {
            throw new IllegalArgumentException("scene image size must be " + MIN_SIZE + ".." + MAX_SIZE + ", got " + size);
        }
    }

    private static int minSide(int size) {
        return Math.max(5, oddAtMost(size / 5));
    }

    private static int maxSide(int size) {
        return Math.max(minSide(size), oddAtMost(size / 4));
    }

    private static int oddAtMost(int v) {
        return v % 2 == 1 ? v : v - 1;
    }

    private static Item place(Random random, int size, Colour colour, Shape shape, int side, List<Item> placed) {
        for (int t = 0; t < TRIES_PER_ITEM; t++) {
            int left = random.nextInt(size - side + 1);
            int top = random.nextInt(size - side + 1);
            Item item = new Item(colour, shape, left + side / 2.0, top + side / 2.0, side);
            boolean clear = true;
            for (Item other : placed) {
                if (!apart(item, other)) {
                    clear = false;
                    break;
                }
            }
            if (clear) {
                return item;
            }
        }
        return null;
    }

    private static boolean apart(Item a, Item b) {
        return a.left() + a.side() + GAP <= b.left() || b.left() + b.side() + GAP <= a.left()
                || a.top() + a.side() + GAP <= b.top() || b.top() + b.side() + GAP <= a.top();
    }

    /** Centres are half-integers, so squared distances are exact and ties are real ties. */
    private static boolean relationsUnique(List<Item> items) {
        for (Item a : items) {
            double[] d = items.stream().filter(b -> b != a).mapToDouble(a::distanceSquared).sorted().toArray();
            if (d.length > 1 && (d[0] == d[1] || d[d.length - 1] == d[d.length - 2])) {
                return false;
            }
        }
        return true;
    }
}
