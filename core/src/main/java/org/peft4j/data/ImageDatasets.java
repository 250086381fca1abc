package org.peft4j.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/** Views over datasets: subsets, class selection, stratified splits, few-shot subsets. Nothing is copied or decoded. */
public final class ImageDatasets {
    // Distinct salts so a split and a few-shot draw with the same seed shuffle independently.
    private static final long SPLIT_SALT = 0x5EED_5B11L;
    private static final long FEW_SHOT_SALT = 0x5EED_F3A7L;

    private ImageDatasets() {
    }

    /** The examples of ds at the given indices, in that order (repeats allowed). */
    public static ImageDataset subset(ImageDataset ds, int[] indices, String name) {
        int[] labels = new int[indices.length];
        for (int i = 0; i < indices.length; i++) {
            if (indices[i] < 0 || indices[i] >= ds.size()) {
                throw new IllegalArgumentException("subset index " + indices[i] + " is outside " + ds.name()
                        + " (size " + ds.size() + ")");
            }
            labels[i] = ds.label(indices[i]);
        }
        return new DatasetView(name, ds, indices.clone(), labels, ds.classes());
    }

    /** The examples of the parts one after another; every part must list the same classes in the same order. */
    public static ImageDataset concat(String name, ImageDataset... parts) {
        if (parts.length == 0) {
            throw new IllegalArgumentException("concat " + name + ": no datasets");
        }
        long total = 0;
        for (ImageDataset part : parts) {
            if (!part.classes().equals(parts[0].classes())) {
                throw new IllegalArgumentException("concat " + name + ": " + part.name() + " has classes "
                        + part.classes() + " but " + parts[0].name() + " has " + parts[0].classes());
            }
            total += part.size();
        }
        if (total > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("concat " + name + ": " + total + " examples is too many");
        }
        return new Concatenation(name, parts.clone(), (int) total, parts[0].classes());
    }

    /** Only the examples of the kept classes, relabelled 0..k-1 in the order of keep, keeping the class names. */
    public static ImageDataset selectClasses(ImageDataset ds, List<Integer> keep) {
        int numClasses = ds.classes().size();
        if (keep.isEmpty()) {
            throw new IllegalArgumentException("selectClasses on " + ds.name() + ": no classes to keep");
        }
        int[] newLabel = new int[numClasses];
        Arrays.fill(newLabel, -1);
        List<String> names = new ArrayList<>();
        for (int k = 0; k < keep.size(); k++) {
            int c = Objects.requireNonNull(keep.get(k), "class index");
            if (c < 0 || c >= numClasses) {
                throw new IllegalArgumentException("selectClasses on " + ds.name() + ": class " + c
                        + " does not exist (classes 0.." + (numClasses - 1) + ")");
            }
            if (newLabel[c] >= 0) {
                throw new IllegalArgumentException("selectClasses on " + ds.name() + ": class " + c + " listed twice");
            }
            newLabel[c] = k;
            names.add(ds.classes().get(c));
        }
        int count = 0;
        for (int i = 0; i < ds.size(); i++) {
            if (newLabel[ds.label(i)] >= 0) {
                count++;
            }
        }
        int[] indices = new int[count];
        int[] labels = new int[count];
        int j = 0;
        for (int i = 0; i < ds.size(); i++) {
            int label = newLabel[ds.label(i)];
            if (label >= 0) {
                indices[j] = i;
                labels[j++] = label;
            }
        }
        return new DatasetView(ds.name() + "[classes " + keep + "]", ds, indices, labels, List.copyOf(names));
    }

    /**
     * Splits each class separately (so both parts keep the class balance): round(n_c * valFraction)
     * examples of class c go to val, at least one and at most n_c - 1 when valFraction > 0 and n_c >= 2.
     * Returns {train, val}, each in ascending index order; same seed, same split.
     */
    public static ImageDataset[] splitTrainVal(ImageDataset ds, double valFraction, long seed) {
        if (!(valFraction >= 0 && valFraction < 1)) {
            throw new IllegalArgumentException("valFraction must be in [0, 1), got " + valFraction);
        }
        int[][] byClass = indicesByClass(ds);
        boolean[] isVal = new boolean[ds.size()];
        for (int c = 0; c < byClass.length; c++) {
            int[] members = byClass[c];
            int n = members.length;
            int nVal = (int) Math.round(n * valFraction);
            if (valFraction > 0 && n >= 2) {
                nVal = Math.min(Math.max(nVal, 1), n - 1);
            }
            SeededShuffle.shuffle(members, SeededShuffle.mix(SeededShuffle.mix(seed, SPLIT_SALT), c));
            for (int i = 0; i < nVal; i++) {
                isVal[members[i]] = true;
            }
        }
        int[] train = indicesWhere(isVal, false);
        int[] val = indicesWhere(isVal, true);
        return new ImageDataset[] {
            subset(ds, train, ds.name() + "/train-split"),
            subset(ds, val, ds.name() + "/val-split"),
        };
    }

    /** At most perClass examples of each class, drawn with the seed; a class with fewer keeps all of them. */
    public static ImageDataset limitPerClass(ImageDataset ds, int perClass, long seed) {
        if (perClass <= 0) {
            throw new IllegalArgumentException("perClass must be positive, got " + perClass);
        }
        int[][] byClass = indicesByClass(ds);
        boolean[] keep = new boolean[ds.size()];
        for (int c = 0; c < byClass.length; c++) {
            int[] members = byClass[c];
            SeededShuffle.shuffle(members, SeededShuffle.mix(SeededShuffle.mix(seed, FEW_SHOT_SALT), c));
            for (int i = 0; i < Math.min(perClass, members.length); i++) {
                keep[members[i]] = true;
            }
        }
        return subset(ds, indicesWhere(keep, true), ds.name() + "[" + perClass + " per class]");
    }

    /** Per class, its example indices in ascending order. */
    public static int[][] indicesByClass(ImageDataset ds) {
        int numClasses = ds.classes().size();
        int[] counts = new int[numClasses];
        int[] labels = new int[ds.size()];
        for (int i = 0; i < ds.size(); i++) {
            labels[i] = ds.label(i);
            if (labels[i] < 0 || labels[i] >= numClasses) {
                throw new DataException(ds.name() + ": example " + i + " has label " + labels[i] + " but there are "
                        + numClasses + " classes");
            }
            counts[labels[i]]++;
        }
        int[][] byClass = new int[numClasses][];
        for (int c = 0; c < numClasses; c++) {
            byClass[c] = new int[counts[c]];
        }
        int[] filled = new int[numClasses];
        for (int i = 0; i < labels.length; i++) {
            byClass[labels[i]][filled[labels[i]]++] = i;
        }
        return byClass;
    }

    private static int[] indicesWhere(boolean[] flags, boolean value) {
        int count = 0;
        for (boolean flag : flags) {
            count += flag == value ? 1 : 0;
        }
        int[] indices = new int[count];
        int j = 0;
        for (int i = 0; i < flags.length; i++) {
            if (flags[i] == value) {
                indices[j++] = i;
            }
        }
        return indices;
    }

    private record Concatenation(String name, ImageDataset[] parts, int size, List<String> classes)
            implements ImageDataset {
        @Override
        public int label(int index) {
            Objects.checkIndex(index, size);
            for (ImageDataset part : parts) {
                if (index < part.size()) {
                    return part.label(index);
                }
                index -= part.size();
            }
            throw new AssertionError("index beyond the parts");
        }

        @Override
        public RawImage image(int index) {
            Objects.checkIndex(index, size);
            for (ImageDataset part : parts) {
                if (index < part.size()) {
                    return part.image(index);
                }
                index -= part.size();
            }
            throw new AssertionError("index beyond the parts");
        }
    }

    /** Example i of this view is example indices[i] of base, with label labels[i] among classes. */
    private record DatasetView(String name, ImageDataset base, int[] indices, int[] labels, List<String> classes)
            implements ImageDataset {
        @Override
        public int size() {
            return indices.length;
        }

        @Override
        public int label(int index) {
            Objects.checkIndex(index, indices.length);
            return labels[index];
        }

        @Override
        public RawImage image(int index) {
            Objects.checkIndex(index, indices.length);
            return base.image(indices[index]);
        }
    }
}
