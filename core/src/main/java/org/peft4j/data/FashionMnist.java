package org.peft4j.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/** Fashion-MNIST (Zalando): 28x28 grayscale, 10 classes, 60k train / 10k test, in IDX files (gzipped or plain). */
public final class FashionMnist {
    public static final Path DEFAULT_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    public static final List<String> CLASSES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    private FashionMnist() {
    }

    /** Loads train-* (train = true) or t10k-* IDX files from dir, fully into memory (47 MB for train). */
    public static ImageDataset load(Path dir, boolean train) {
        if (!Files.isDirectory(dir)) {
            throw new DataException("Fashion-MNIST directory " + dir + " does not exist; install it with "
                    + "`apt-get install dataset-fashion-mnist` (it goes to " + DEFAULT_DIR
                    + ") or pass --data fashion-mnist:DIR");
        }
        String prefix = train ? "train" : "t10k";
        Path imagesFile = find(dir, prefix + "-images-idx3-ubyte");
        Path labelsFile = find(dir, prefix + "-labels-idx1-ubyte");
        IdxReader.IdxArray images = IdxReader.read(imagesFile, IdxReader.IMAGES_MAGIC);
        IdxReader.IdxArray labels = IdxReader.read(labelsFile, IdxReader.LABELS_MAGIC);
        int count = images.dims()[0];
        if (labels.dims()[0] != count) {
            throw new DataException(imagesFile + " holds " + count + " images but " + labelsFile + " holds "
                    + labels.dims()[0] + " labels");
        }
        int height = images.dims()[1];
        int width = images.dims()[2];
        if (count > 0 && (height == 0 || width == 0)) {
            throw new DataException(imagesFile + ": images of size " + height + "x" + width);
        }
        byte[] labelBytes = labels.data();
        for (int i = 0; i < count; i++) {
            int label = labelBytes[i] & 0xFF;
            if (label >= CLASSES.size()) {
                throw new DataException(labelsFile + ": label " + label + " at index " + i + " is not a class 0.."
                        + (CLASSES.size() - 1));
            }
        }
        return new InMemory("fashion-mnist/" + (train ? "train" : "test"), images.data(), labelBytes, count,
                height, width);
    }

    /** The gzipped file as shipped, or a decompressed copy next to it. */
    private static Path find(Path dir, String baseName) {
        Path gz = dir.resolve(baseName + ".gz");
        if (Files.exists(gz)) {
            return gz;
        }
        Path plain = dir.resolve(baseName);
        if (Files.exists(plain)) {
            return plain;
        }
        throw new DataException("Fashion-MNIST file missing: neither " + gz + " nor " + plain + " exists");
    }

    private record InMemory(String name, byte[] pixels, byte[] labels, int size, int height, int width)
            implements ImageDataset {
        @Override
        public List<String> classes() {
            return CLASSES;
        }

        @Override
        public int label(int index) {
            Objects.checkIndex(index, size);
            return labels[index] & 0xFF;
        }

        @Override
        public RawImage image(int index) {
            Objects.checkIndex(index, size);
            int n = height * width;
            byte[] copy = new byte[n];
            System.arraycopy(pixels, index * n, copy, 0, n);
            return new RawImage(width, height, 1, copy);
        }
    }
}
