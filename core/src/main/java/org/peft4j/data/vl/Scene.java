package org.peft4j.data.vl;

import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A Sort-of-CLEVR scene: up to six objects, each colour at most once, on a black {@code size}²
 * image. Coordinates are pixels, y down; an object's (x, y) is its centre and {@code side} the width
 * and height of its bounding box, which lies inside the image.
 */
public record Scene(int size, List<Item> items) {

    /**
     * The six object colours. Their Rec. 601 luma (0.299 R + 0.587 G + 0.114 B, how the default
     * grayscale ViT sees RGB) is 41 to 51 apart, so colour questions stay answerable in grayscale.
     */
    public enum Colour {
        BLUE(0, 0, 255),     // luma  29
        RED(255, 0, 0),      // luma  76
        GREEN(0, 200, 0),    // luma 117
        ORANGE(255, 140, 0), // luma 158
        YELLOW(230, 230, 0), // luma 204
        WHITE(255, 255, 255); // luma 255

        private final int r;
        private final int g;
        private final int b;

        Colour(int r, int g, int b) {
            this.r = r;
            this.g = g;
            this.b = b;
        }

        public int red() {
            return r;
        }

        public int green() {
            return g;
        }

        public int blue() {
            return b;
        }

        /** Rec. 601 luma, 0..255. */
        public double luma() {
            return 0.299 * r + 0.587 * g + 0.114 * b;
        }

        /** The word used in questions, answers and captions. */
        public String word() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public enum Shape {
        SQUARE, CIRCLE, TRIANGLE;

        public String word() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** One object: centre (x, y) in pixels and bounding-box side; a triangle points up. */
    public record Item(Colour colour, Shape shape, double x, double y, int side) {
        public Item {
            if (colour == null || shape == null) {
                throw new IllegalArgumentException("an item needs a colour and a shape");
            }
            if (side < 1) {
                throw new IllegalArgumentException("item side must be positive, got " + side);
            }
        }

        /** "red circle". */
        public String words() {
            return colour.word() + " " + shape.word();
        }

        double left() {
            return x - side / 2.0;
        }

        double top() {
            return y - side / 2.0;
        }

        double distanceSquared(Item other) {
            double dx = other.x - x;
            double dy = other.y - y;
            return dx * dx + dy * dy;
        }
    }

    public static final int MAX_ITEMS = Colour.values().length;

    public Scene {
        if (size < 1) {
            throw new IllegalArgumentException("scene size must be positive, got " + size);
        }
        items = List.copyOf(items);
        if (items.isEmpty() || items.size() > MAX_ITEMS) {
            throw new IllegalArgumentException("a scene holds 1.." + MAX_ITEMS + " items, got " + items.size());
        }
        Set<Colour> seen = EnumSet.noneOf(Colour.class);
        for (Item item : items) {
            if (!seen.add(item.colour())) {
                throw new IllegalArgumentException("colour " + item.colour().word() + " appears twice in a scene");
            }
            if (item.left() < 0 || item.top() < 0 || item.left() + item.side() > size || item.top() + item.side() > size) {
                throw new IllegalArgumentException("the " + item.words() + " at (" + item.x() + ", " + item.y()
                        + ") side " + item.side() + " leaves the " + size + "x" + size + " image");
            }
        }
    }

    /** The item of that colour. */
    public Item item(Colour colour) {
        for (Item item : items) {
            if (item.colour() == colour) {
                return item;
            }
        }
        throw new IllegalArgumentException("no " + colour.word() + " object in the scene");
    }
}
