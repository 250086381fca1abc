package org.peft4j.data.suite;

/** Images per split. VTAB-1k: 800 train + 200 val (1000 to train the final run on), at least 2000 test. */
public record SuiteSizes(int train, int val, int test) {
    public static final SuiteSizes VTAB = new SuiteSizes(800, 200, 2000);

    public SuiteSizes {
        if (train <= 0 || val <= 0 || test <= 0) {
            throw new IllegalArgumentException("suite split sizes must be positive, got train=" + train + ", val="
                    + val + ", test=" + test);
        }
    }
}
