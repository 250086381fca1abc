package org.peft4j.data.seg;

import org.peft4j.data.DataException;
import org.peft4j.data.FashionMnist;
import org.peft4j.data.RawImage;
import org.peft4j.data.SeededShuffle;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The {@code --data} of segmentation commands: {@code segsuite:DOMAIN} (a generated domain's fixed
 * splits, see {@link SegDomains}), or {@code segfolder:PATH} (a {@link SegFolder}; with
 * {@code PATH/train} and {@code PATH/test} folders those are the splits, else a seeded
 * {@code testFraction} of the images is held out for testing).
 */
public final class SegData {

    public static final String ACCEPTED = "segsuite:DOMAIN (cells, cracks, aerial, fashion, underwater) or segfolder:PATH";
    /** Side of the generated domains' images. */
    public static final int DOMAIN_IMAGE_SIZE = 96;

    private SegData() {}

    public static SegDomains.Splits resolve(String spec, SegDomains.Sizes sizes, double testFraction, long seed) {
        if (spec.startsWith("segsuite:")) {
            String domain = spec.substring("segsuite:".length());
            if (!SegDomains.DOMAINS.contains(domain)) {
                throw new DataException("--data " + spec + ": no domain '" + domain + "'; domains: " + SegDomains.DOMAINS);
            }
            return SegDomains.splits(domain, DOMAIN_IMAGE_SIZE, sizes, seed, FashionMnist.DEFAULT_DIR);
        }
        if (spec.startsWith("segfolder:")) {
            Path root = Path.of(spec.substring("segfolder:".length()));
            if (!Files.isDirectory(root)) {
                throw new DataException(root + ": segmentation folder not found");
            }
            if (Files.isDirectory(root.resolve("train")) && Files.isDirectory(root.resolve("test"))) {
                SegFolder train = SegFolder.open(root.resolve("train"));
                SegFolder test = SegFolder.open(root.resolve("test"));
                if (!train.classes().equals(test.classes())) {
                    throw new DataException(root + ": train/ and test/ name different classes: " + train.classes()
                            + " vs " + test.classes());
                }
                return new SegDomains.Splits(train, test);
            }
            return split(SegFolder.open(root), testFraction, seed);
        }
        throw new DataException("--data " + spec + ": expected " + ACCEPTED);
    }

    /** A seeded hold-out split of one dataset: at least one image on each side. */
    static SegDomains.Splits split(SegmentationDataset all, double testFraction, long seed) {
        if (!(testFraction > 0 && testFraction < 1)) {
            throw new IllegalArgumentException("test fraction must be in (0, 1), got " + testFraction);
        }
        if (all.size() < 2) {
            throw new DataException(all.name() + ": needs at least 2 images to hold some out for testing");
        }
        int[] order = new int[all.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        SeededShuffle.shuffle(order, seed);
        int test = Math.max(1, Math.min(all.size() - 1, (int) Math.round(testFraction * all.size())));
        int[] testIdx = java.util.Arrays.copyOf(order, test);
        int[] trainIdx = java.util.Arrays.copyOfRange(order, test, order.length);
        java.util.Arrays.sort(testIdx);
        java.util.Arrays.sort(trainIdx);
        return new SegDomains.Splits(new Subset(all, trainIdx, "train"), new Subset(all, testIdx, "test"));
    }

    private record Subset(SegmentationDataset base, int[] indices, String part) implements SegmentationDataset {
        @Override
        public String name() {
            return base.name() + " (" + part + ")";
        }

        @Override
        public int size() {
            return indices.length;
        }

        @Override
        public List<String> classes() {
            return base.classes();
        }

        @Override
        public RawImage image(int index) {
            return base.image(indices[index]);
        }

        @Override
        public SegMask mask(int index) {
            return base.mask(indices[index]);
        }
    }
}
