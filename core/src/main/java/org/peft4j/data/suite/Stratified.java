package org.peft4j.data.suite;

/**
 * Labels by position, which keeps every split balanced as far as divisible: example i of a split whose label
 * cycle starts at offset has label (offset + i) % k. Val starts where train stops, so train + val is one
 * unbroken cycle and balanced too.
 */
final class Stratified {
    private Stratified() {
    }

    static int label(int offset, int index, int numClasses) {
        return (int) (((long) offset + index) % numClasses);
    }

    /** How many of n examples starting at offset have label c. */
    static int count(int n, int offset, int numClasses, int c) {
        int first = Math.floorMod(c - offset, numClasses); // the first index with label c
        return first >= n ? 0 : (n - 1 - first) / numClasses + 1;
    }
}
