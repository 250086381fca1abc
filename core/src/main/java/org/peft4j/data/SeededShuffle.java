package org.peft4j.data;

import java.util.Random;

/** Deterministic shuffles: java.util.Random's sequence is fixed by its specification, so orders repeat across JVMs. */
public final class SeededShuffle {
    private SeededShuffle() {
    }

    /** Fisher-Yates in place. */
    public static void shuffle(int[] values, long seed) {
        Random random = new Random(seed);
        for (int i = values.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int tmp = values[i];
            values[i] = values[j];
            values[j] = tmp;
        }
    }

    /** Derives an independent seed (SplitMix64 finaliser), so seed+1 and epoch+1 do not give related orders. */
    public static long mix(long seed, long salt) {
        long z = seed + 0x9E3779B97F4A7C15L * (salt + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
