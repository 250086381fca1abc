package org.peft4j.data.suite;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;
import org.peft4j.data.FashionMnist;
import org.peft4j.data.ImageDataset;
import org.peft4j.data.ImageDatasets;
import org.peft4j.data.SeededShuffle;

/**
 * A VTAB-1k analogue on 28x28 gray images: Fashion-MNIST classes the default backbone has not seen, and
 * tasks generated exactly from a fixed seed. Every split, and train + val, is class-balanced as far as
 * divisible (labels go round the classes by position), the same on every machine and run whatever the
 * training seed, and disjoint from the other splits.
 */
public final class Suite {
    /** Fixes every image of the suite; training seeds never reach it. */
    public static final long DATA_SEED = 0x5017E_DA7AL;
    /** A generated split keeps its images in memory (784 bytes each); this caps it at 78 MB. */
    public static final int MAX_GENERATED_SPLIT = 100_000;
    static final String SPEC_PREFIX = "suite:";
    private static final long TRAIN_SALT = 1;
    private static final long VAL_SALT = 2;
    private static final long TEST_SALT = 3;

    private interface Loader {
        SuiteData load(SuiteTask task, SuiteSizes sizes, Path fashionMnistDir, long taskSeed);
    }

    private record Entry(SuiteTask task, Loader loader) {
    }

    private static final List<Entry> ENTRIES = List.of(
            new Entry(new SuiteTask("fashion-mnist", TaskGroup.NATURAL,
                    "Fashion-MNIST sandal, shirt, sneaker, bag, ankle boot (classes 5-9, relabelled 0-4)",
                    FashionMnistTask.classNames()), FashionMnistTask::load),
            generated("glyph-digits", TaskGroup.NATURAL,
                    "digit 0-9 in six DejaVu faces, some leaned, with random size, position, rotation, ink and noise",
                    new GlyphTasks.Digits()),
            generated("font-style", TaskGroup.NATURAL,
                    "typeface of a random letter: {sans, serif, mono} x {regular, bold}", new GlyphTasks.FontStyle()),
            generated("textures", TaskGroup.SPECIALIZED,
                    "procedural texture with random period, phase, orientation jitter, sharpness and contrast",
                    new TextureTask()),
            generated("cells", TaskGroup.SPECIALIZED,
                    "morphology of 1-4 blurred cells on a noisy, unevenly lit background", new CellTask()),
            generated("dsprites-location", TaskGroup.STRUCTURED,
                    "x position of a square, ellipse or heart in 8 equal bins, left to right",
                    new SpriteTasks.Location()),
            generated("dsprites-orientation", TaskGroup.STRUCTURED,
                    "direction a wedge, dart or teardrop points, in 8 bins of 45 degrees",
                    new SpriteTasks.Orientation()),
            generated("count", TaskGroup.STRUCTURED, "number of separate discs and squares, 1-6",
                    new SceneTasks.Count()),
            generated("distance", TaskGroup.STRUCTURED,
                    "distance from the bottom-centre to the nearest of 1-3 discs, in 5 bins of 4 px",
                    new SceneTasks.Distance()));

    private Suite() {
    }

    /** All tasks: natural, then specialized, then structured. */
    public static List<SuiteTask> tasks() {
        return ENTRIES.stream().map(Entry::task).toList();
    }

    public static SuiteTask task(String name) {
        return entry(name).task();
    }

    /**
     * The task's splits at the given sizes. Generated images are drawn lazily (the first one at once, so a
     * missing font fails here rather than in a loader thread); Fashion-MNIST is read from fashionMnistDir.
     */
    public static SuiteData load(String name, SuiteSizes sizes, Path fashionMnistDir) {
        Objects.requireNonNull(sizes, "sizes");
        Entry entry = entry(name);
        SuiteTask task = entry.task();
        int k = task.classes().size();
        checkSize(task, "train", sizes.train(), k);
        checkSize(task, "val", sizes.val(), k);
        checkSize(task, "test", sizes.test(), k);
        return entry.loader().load(task, sizes, fashionMnistDir, SeededShuffle.mix(DATA_SEED, name.hashCode()));
    }

    /** Writes a contact sheet of the first n training images (VTAB sizes) with their class names as a PNG. */
    public static void preview(String name, int n, Path png) {
        ContactSheet.write(load(name, SuiteSizes.VTAB, FashionMnist.DEFAULT_DIR).train(), n, png);
    }

    private static Entry entry(String name) {
        for (Entry entry : ENTRIES) {
            if (entry.task().name().equals(name)) {
                return entry;
            }
        }
        throw new IllegalArgumentException("Unknown suite task '" + name + "'; known tasks: "
                + ENTRIES.stream().map(e -> e.task().name()).collect(Collectors.joining(", ")));
    }

    private static void checkSize(SuiteTask task, String split, int n, int numClasses) {
        if (n < numClasses) {
            throw new IllegalArgumentException(task.name() + ": " + split + " size " + n + " is less than its "
                    + numClasses + " classes; every split needs at least one image of each class");
        }
    }

    private static Entry generated(String name, TaskGroup group, String description, ImageGenerator generator) {
        SuiteTask task = new SuiteTask(name, group, description, generator.classes());
        return new Entry(task, (t, sizes, fashionMnistDir, seed) -> generatedSplits(t, generator, sizes, seed));
    }

    private static SuiteData generatedSplits(SuiteTask task, ImageGenerator generator, SuiteSizes sizes, long seed) {
        String prefix = SPEC_PREFIX + task.name() + "/";
        ImageDataset train = generatedSplit(prefix + "train", generator, SeededShuffle.mix(seed, TRAIN_SALT),
                sizes.train(), 0);
        ImageDataset val = generatedSplit(prefix + "val", generator, SeededShuffle.mix(seed, VAL_SALT), sizes.val(),
                sizes.train());
        ImageDataset test = generatedSplit(prefix + "test", generator, SeededShuffle.mix(seed, TEST_SALT),
                sizes.test(), 0);
        train.image(0);
        return new SuiteData(task, train, val, ImageDatasets.concat(prefix + "trainval", train, val), test);
    }

    private static ImageDataset generatedSplit(String name, ImageGenerator generator, long seed, int size,
            int labelOffset) {
        if (size > MAX_GENERATED_SPLIT) {
            throw new IllegalArgumentException(name + ": " + size + " images asked for, a generated split holds "
                    + "at most " + MAX_GENERATED_SPLIT);
        }
        return new GeneratedDataset(name, generator, seed, size, labelOffset);
    }
}
