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
 * train takes them from the front, val from the back, test from the front of t10k's, so a smaller train or
 * test picks a prefix of the larger one's images. Labels go by position as in the generated tasks
 * ({@link Stratified}).
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
            int train = Stratified.count(sizes.train(), 0, k, c);
            int val = Stratified.count(sizes.val(), sizes.train(), k, c);
            int test = Stratified.count(sizes.test(), 0, k, c);
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
        // Position i is the (i / k)-th of its class in the split, whatever the offset of the label cycle.
        for (int i = 0; i < trainIdx.length; i++) {
            trainIdx[i] = trainPool[Stratified.label(0, i, k)][i / k];
        }
        for (int i = 0; i < valIdx.length; i++) {
            int[] members = trainPool[Stratified.label(sizes.train(), i, k)];
            valIdx[i] = members[members.length - 1 - i / k];
        }
        for (int i = 0; i < testIdx.length; i++) {
            testIdx[i] = testPool[Stratified.label(0, i, k)][i / k];
        }
        String prefix = Suite.SPEC_PREFIX + task.name() + "/";
        ImageDataset train = ImageDatasets.subset(trainFile, trainIdx, prefix + "train");
        ImageDataset val = ImageDatasets.subset(trainFile, valIdx, prefix + "val");
        ImageDataset test = ImageDatasets.subset(testFile, testIdx, prefix + "test");
        return new SuiteData(task, train, val, ImageDatasets.concat(prefix + "trainval", train, val), test);
    }

    private static int[][] shuffledByClass(ImageDataset ds, long seed) {
        int[][] byClass = ImageDatasets.indicesByClass(ds);
        for (int c = 0; c < byClass.length; c++) {
            SeededShuffle.shuffle(byClass[c], SeededShuffle.mix(seed, c));
        }
        return byClass;
    }
}
