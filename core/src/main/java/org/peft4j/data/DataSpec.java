package org.peft4j.data;

import java.nio.file.Files;
import java.nio.file.Path;
import org.peft4j.data.suite.Suite;
import org.peft4j.data.suite.SuiteData;
import org.peft4j.data.suite.SuiteSizes;

/** Parses the CLI's --data: "fashion-mnist", "fashion-mnist:DIR", "folder:PATH", "suite:NAME". */
public final class DataSpec {
    public static final String ACCEPTED = "fashion-mnist, fashion-mnist:DIR, folder:PATH, suite:NAME";

    /** Train, validation (model selection) and test (final report) sets sharing one class list. */
    public record Splits(ImageDataset train, ImageDataset val, ImageDataset test) {
        public Splits {
            // One class trains a 1-way head that scores 100% on anything: refused, not reported.
            if (train.classes().size() < 2) {
                throw new DataException(train.name() + " has " + train.classes().size() + " class" + (train.classes().size() == 1
                        ? " (" + train.classes().get(0) + ")" : "es") + "; a classifier needs at least two class folders");
            }
        }
    }

    private DataSpec() {
    }

    /**
     * fashion-mnist: train/val = stratified split of the 60k train set, test = t10k.
     * folder:PATH: PATH/train + PATH/val (+ PATH/test, else test = val) when present; PATH/train (+ PATH/test,
     * else test = val) with val carved out of train; otherwise a stratified train/val split of PATH with test = val.
     * suite:NAME: the benchmark task's fixed VTAB-size splits (800/200/2000); valFraction and seed do not apply.
     */
    public static Splits resolve(String spec, double valFraction, long seed) {
        if (spec == null) {
            throw new IllegalArgumentException("No --data given; accepted forms: " + ACCEPTED);
        }
        if (spec.equals("fashion-mnist")) {
            return fashionMnist(FashionMnist.DEFAULT_DIR, valFraction, seed);
        }
        if (spec.startsWith("fashion-mnist:") && spec.length() > "fashion-mnist:".length()) {
            return fashionMnist(Path.of(spec.substring("fashion-mnist:".length())), valFraction, seed);
        }
        if (spec.startsWith("folder:") && spec.length() > "folder:".length()) {
            return folder(Path.of(spec.substring("folder:".length())), valFraction, seed);
        }
        if (spec.startsWith("suite:") && spec.length() > "suite:".length()) {
            SuiteData data = Suite.load(spec.substring("suite:".length()), SuiteSizes.VTAB, FashionMnist.DEFAULT_DIR);
            return new Splits(data.train(), data.val(), data.test());
        }
        throw new IllegalArgumentException("Unknown --data '" + spec + "'; accepted forms: " + ACCEPTED);
    }

    private static Splits fashionMnist(Path dir, double valFraction, long seed) {
        ImageDataset[] trainVal = ImageDatasets.splitTrainVal(FashionMnist.load(dir, true), valFraction, seed);
        return new Splits(trainVal[0], trainVal[1], FashionMnist.load(dir, false));
    }

    private static Splits folder(Path root, double valFraction, long seed) {
        Path trainDir = root.resolve("train");
        Path valDir = root.resolve("val");
        if (Files.isDirectory(trainDir) && Files.isDirectory(valDir)) {
            ImageDataset train = ImageFolder.load(trainDir);
            ImageDataset val = sameClasses(train, ImageFolder.load(valDir));
            Path testDir = root.resolve("test");
            ImageDataset test = Files.isDirectory(testDir) ? sameClasses(train, ImageFolder.load(testDir)) : val;
            return new Splits(train, val, test);
        }
        Path testDir = root.resolve("test");
        boolean split = Files.isDirectory(trainDir);
        if (!(valFraction > 0)) {
            throw new IllegalArgumentException("folder:" + root + " has no train/ and val/ sub-folders, so "
                    + (split ? "train/" : "it") + " is split into train and val, which needs a validation fraction > 0 (got "
                    + valFraction + ")");
        }
        if (split) { // the commonest layout, train/ + test/: the validation split is carved out of train/
            ImageDataset[] trainVal = ImageDatasets.splitTrainVal(ImageFolder.load(trainDir), valFraction, seed);
            ImageDataset test = Files.isDirectory(testDir) ? sameClasses(trainVal[0], ImageFolder.load(testDir)) : trainVal[1];
            return new Splits(trainVal[0], trainVal[1], test);
        }
        if (Files.isDirectory(testDir) || Files.isDirectory(valDir)) {
            throw new IllegalArgumentException("folder:" + root + " has " + (Files.isDirectory(testDir) ? "test/" : "val/")
                    + " but no train/: give train/ (+ val/ and/or test/), or class folders only");
        }
        ImageDataset[] trainVal = ImageDatasets.splitTrainVal(ImageFolder.load(root), valFraction, seed);
        return new Splits(trainVal[0], trainVal[1], trainVal[1]);
    }

    /** Labels are indices into the class list, so every split must list the same classes in the same order. */
    private static ImageDataset sameClasses(ImageDataset train, ImageDataset other) {
        if (!other.classes().equals(train.classes())) {
            throw new DataException(other.name() + " has classes " + other.classes() + " but " + train.name()
                    + " has " + train.classes() + "; every split needs the same class folders");
        }
        return other;
    }
}
