package org.peft4j.data.suite;

import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.peft4j.data.ImageDataset;
import org.peft4j.data.RawImage;
import org.peft4j.data.SeededShuffle;

/**
 * One split of a generated task. Example i has its label by position (see {@link Stratified}: exact balance,
 * and labels cost nothing) and is drawn from its own seed, mix(splitSeed, i), the first time it is asked for;
 * the bytes are then kept.
 * Thread-safe: two threads racing on one index draw the same bytes, and the first to finish is kept.
 */
final class GeneratedDataset implements ImageDataset {
    private final String name;
    private final ImageGenerator generator;
    private final long splitSeed;
    private final int size;
    private final int labelOffset;
    private final AtomicReferenceArray<byte[]> drawn;

    GeneratedDataset(String name, ImageGenerator generator, long splitSeed, int size, int labelOffset) {
        this.name = name;
        this.generator = generator;
        this.splitSeed = splitSeed;
        this.size = size;
        this.labelOffset = labelOffset;
        this.drawn = new AtomicReferenceArray<>(size);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public List<String> classes() {
        return generator.classes();
    }

    @Override
    public int label(int index) {
        Objects.checkIndex(index, size);
        return Stratified.label(labelOffset, index, generator.classes().size());
    }

    /** A fresh copy each call, like the other datasets, so a caller cannot alter the kept bytes. */
    @Override
    public RawImage image(int index) {
        Objects.checkIndex(index, size);
        byte[] pixels = drawn.get(index);
        if (pixels == null) {
            Canvas canvas = new Canvas();
            generator.draw(canvas, label(index), new Random(SeededShuffle.mix(splitSeed, index)));
            drawn.compareAndSet(index, null, canvas.toBytes());
            pixels = drawn.get(index);
        }
        return new RawImage(Canvas.SIZE, Canvas.SIZE, 1, pixels.clone());
    }
}
