package org.peft4j.data.suite;

import java.nio.file.Path;
import java.util.List;
import org.peft4j.data.FashionMnist;
import org.peft4j.data.ImageDataset;
import org.peft4j.data.ImageDatasets;
import org.peft4j.data.SeededShuffle;

/**
 * Fashion-MNIST classes 5-9 (the default backbone was pretrained on 0-4), relabelled 0-4. Train and val are
 * drawn from the train file, test from t10k. Each class's examples are shuffled once with the suite's seed;
 * train takes them from the front, val from the back, test from the front of t10k's, so a smaller size
 * picks a prefix of the larger one's images. Like the generated tasks, example i has label i % 5.
 */
final class FashionMnistTask {
    static final List<Integer> CLASSES = List.of(5, 6, 7, 8, 9);

    private FashionMnistTask() {
    }

    static List<String> classNames() {
        return CLASSES.stream().map(FashionMnist.CLASSES::get).toList();
    }

    static SuiteData load(SuiteTask task, SuiteSizes sizes, Path dir, long seed) {
        ImageDataset trainFile = ImageDatasets.selectClasses(FashionMnist.load(dir, true), CLASSES);
        ImageDataset testFile = ImageDatasets.selectClasses(FashionMnist.load(dir, false), CLASSES);
        int[][] trainPool = shuffledByClass(trainFile, SeededShuffle.mix(seed, 1));
        int[][] testPool = shuffledByClass(testFile, SeededShuffle.mix(seed, 2));
        int k = CLASSES.size();
        for (int c = 0; c < k; c++) {
            int train = perClass(sizes.train(), k, c);
            int val = perClass(sizes.val(), k, c);
            int test = perClass(sizes.test(), k, c);
            String className = trainFile.classes().get(c);
            if (train + val > trainPool[c].length) {
                throw new IllegalArgumentException(task.name() + ": train " + sizes.train() + " + val " + sizes.val()
                        + " needs " + (train + val) + " images of class " + className
                        + " but the Fashion-MNIST train file in " + dir + " has " + trainPool[c].length);
            }
            if (test > testPool[c].length) {
                throw new IllegalArgumentException(task.name() + ": test " + sizes.test() + " needs " + test
                        + " images of class " + className + " but the Fashion-MNIST t10k file in " + dir + " has "
                        + testPool[c].length);
            }
        }
        int[] trainIdx = new int[sizes.train()];
        int[] valIdx = new int[sizes.val()];
        int[] testIdx = new int[sizes.test()];
        for (int i = 0; i < trainIdx.length; i++) {
            trainIdx[i] = trainPool[i % k][i / k];
        }
        for (int i = 0; i < valIdx.length; i++) {
            int[] members = trainPool[i % k];
            valIdx[i] = members[members.length - 1 - i / k];
        }
        for (int i = 0; i < testIdx.length; i++) {
            testIdx[i] = testPool[i % k][i / k];
        }
        String prefix = Suite.SPEC_PREFIX + task.name() + "/";
        ImageDataset train = ImageDatasets.subset(trainFile, trainIdx, prefix + "train");
        ImageDataset val = ImageDatasets.subset(trainFile, valIdx, prefix + "val");
        ImageDataset test = ImageDatasets.subset(testFile, testIdx, prefix + "test");
        return new SuiteData(task, train, val, ImageDatasets.concat(prefix + "trainval", train, val), test);
    }

    /** Examples of class c in a split of n over k classes when example i has label i % k. */
    static int perClass(int n, int k, int c) {
        return n / k + (c < n % k ? 1 : 0);
    }

    private static int[][] shuffledByClass(ImageDataset ds, long seed) {
        int[][] byClass = ImageDatasets.indicesByClass(ds);
        for (int c = 0; c < byClass.length; c++) {
            SeededShuffle.shuffle(byClass[c], SeededShuffle.mix(seed, c));
        }
        return byClass;
    }
}
