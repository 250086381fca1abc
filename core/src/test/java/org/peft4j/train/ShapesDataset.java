package org.peft4j.train;

import org.peft4j.data.ImageDataset;
import org.peft4j.data.RawImage;

import java.util.List;
import java.util.Random;

/**
 * Procedural 16×16 RGB images of three classes on a noisy background: a red square, a green
 * horizontal bar, a blue vertical bar, each at a random place. Example i is a function of
 * (seed, i) alone, and labels cycle through the classes so every class is equally frequent.
 */
record ShapesDataset(String name, int size, long seed) implements ImageDataset {

    static final List<String> CLASSES = List.of("square", "hbar", "vbar");
    static final int SIDE = 16;

    @Override
    public List<String> classes() {
        return CLASSES;
    }

    @Override
    public int label(int index) {
        return index % CLASSES.size();
    }

    @Override
    public RawImage image(int index) {
        Random random = new Random(seed * 1_000_003L + index);
        byte[] px = new byte[SIDE * SIDE * 3];
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) random.nextInt(60);
        }
        int label = label(index);
        int a = 1 + random.nextInt(SIDE - 8);
        int b = 1 + random.nextInt(SIDE - 8);
        int x0 = label == 2 ? a : b;
        int y0 = label == 2 ? b : a;
        int w = switch (label) {
            case 0 -> 6;
            case 1 -> 12;
            default -> 3;
        };
        int h = switch (label) {
            case 0 -> 6;
            case 1 -> 3;
            default -> 12;
        };
        for (int y = y0; y < Math.min(SIDE, y0 + h); y++) {
            for (int x = x0; x < Math.min(SIDE, x0 + w); x++) {
                px[(y * SIDE + x) * 3 + label] = (byte) (200 + random.nextInt(56));
            }
        }
        return new RawImage(SIDE, SIDE, 3, px);
    }
}
