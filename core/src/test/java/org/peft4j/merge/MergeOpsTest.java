package org.peft4j.merge;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.peft4j.ManagedTest;
import org.peft4j.merge.MergeOps.SignMethod;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The merge primitives on cases computed by hand (PEFT's merge_utils semantics, then mergekit's). */
class MergeOpsTest extends ManagedTest {

    private static final float EPS = 1e-6f;

    private NDArray t(float... v) {
        return manager.create(v);
    }

    @Test
    void magnitudePruningKeepsTheFloorOfDensityTimesNLargestOverTheWholeTensor() {
        NDArray x = manager.create(new float[] {1, -4, 3, -2}, new Shape(2, 2));
        assertArrayEquals(new float[] {0, -4, 3, 0}, MergeOps.magnitudePruned(x, 0.5).toFloatArray(), EPS);
        assertArrayEquals(new float[] {0, -4, 3, 0}, MergeOps.magnitudePruned(x, 0.74).toFloatArray(), EPS, "⌊0.74·4⌋ = 2");
        assertArrayEquals(new float[] {0, -4, 3, -2}, MergeOps.magnitudePruned(x, 0.75).toFloatArray(), EPS);
        assertArrayEquals(new float[] {0, 0, 0, 0}, MergeOps.magnitudePruned(x, 0.2).toFloatArray(), EPS, "⌊0.8⌋ = 0 keeps nothing");
        assertArrayEquals(x.toFloatArray(), MergeOps.magnitudePruned(x, 1).toFloatArray());
    }

    @Test
    void majoritySignByTotalAndByFrequencyWithZerosNeverAgreeing() {
        NDArray stacked = manager.create(new float[] {1, -2, 0, 3, -3, -1, 2, 0}, new Shape(2, 4));
        // sums -2 -3 2 3 → elected - - + +
        assertArrayEquals(new float[] {0, 1, 0, 1, 1, 1, 1, 0},
                MergeOps.majoritySignMask(stacked, SignMethod.TOTAL).toFloatArray());
        // sign sums 0 -2 1 1 → elected + - + + (sgn⁺(0) = +1)
        assertArrayEquals(new float[] {1, 1, 0, 1, 0, 1, 1, 0},
                MergeOps.majoritySignMask(stacked, SignMethod.FREQUENCY).toFloatArray());
    }

    @Test
    void peftTiesElectsOnUnweightedTensorsAndAveragesByCount() {
        List<NDArray> tasks = List.of(t(1, -2, 0, 3), t(-3, -1, 2, 0));
        // weighted 2·τ1 = 2 -4 0 6, τ2 = -3 -1 2 0; elected - - + + on the unweighted sums
        NDArray merged = MergeOps.ties(tasks, new float[] {2, 1}, 1.0, SignMethod.TOTAL);
        assertArrayEquals(new float[] {-3, -2.5f, 2, 6}, merged.toFloatArray(), EPS);
        // A weight that would flip a weighted vote does not flip PEFT's: τ1 = 1 wins 1 + (-0.5) > 0.
        NDArray unweightedVote = MergeOps.ties(List.of(t(1), t(-0.5f)), new float[] {1, 10}, 1.0, SignMethod.TOTAL);
        assertArrayEquals(new float[] {1}, unweightedVote.toFloatArray(), EPS);
        // ... mergekit's weighted election picks 10·(-0.5), and divides by the agreeing weight 10.
        NDArray weightedVote = MergeOps.tiesMerging(List.of(t(1), t(-0.5f)), new float[] {1, 10}, 1.0, SignMethod.TOTAL);
        assertArrayEquals(new float[] {-0.5f}, weightedVote.toFloatArray(), EPS);
    }

    @Test
    void peftTiesPrunesEachTensorBeforeElecting() {
        // density 0.5 keeps -2, 3 of τ1 and -3, 2 of τ2
        NDArray merged = MergeOps.ties(List.of(t(1, -2, 0, 3), t(-3, -1, 2, 0)), new float[] {1, 1}, 0.5,
                SignMethod.TOTAL);
        // pruned: 0 -2 0 3 / -3 0 2 0 → sums -3 -2 2 3 → - - + + ; means -3, -2, 2, 3
        assertArrayEquals(new float[] {-3, -2, 2, 3}, merged.toFloatArray(), EPS);
        NDArray pruned = MergeOps.magnitudePrune(List.of(t(1, -2, 0, 3), t(-3, -1, 2, 0)), new float[] {1, 2}, 0.5);
        assertArrayEquals(new float[] {-6, -2, 4, 3}, pruned.toFloatArray(), EPS);
    }

    @Test
    void taskArithmeticIsTheWeightedSumNegativeWeightsIncluded() {
        NDArray merged = MergeOps.taskArithmetic(List.of(t(1, 2), t(3, -1)), new float[] {0.5f, -2});
        assertArrayEquals(new float[] {-5.5f, 3}, merged.toFloatArray(), EPS);
    }

    @Test
    void mergekitTiesDividesByTheAgreeingWeights() {
        // weighted: 2 -1 / -3 -3 → votes -1 -4 → - - ; agreeing weights 3, 4
        NDArray merged = MergeOps.tiesMerging(List.of(t(2, -1), t(-1, -1)), new float[] {1, 3}, 1.0, SignMethod.TOTAL);
        assertArrayEquals(new float[] {-1, -1}, merged.toFloatArray(), EPS);
    }

    @Test
    void dareKeepsAboutDensityAndRescalesAsSpecified() {
        int n = 20_000;
        float[] ones = new float[n];
        java.util.Arrays.fill(ones, 2f);
        NDArray x = manager.create(ones);
        float[] peft = MergeOps.randomPruned(x, 0.25, true, 7).toFloatArray();
        int kept = 0;
        for (float v : peft) {
            assertTrue(v == 0f || Math.abs(v - 8f) < EPS, "kept entries are divided by the density: " + v);
            kept += v != 0 ? 1 : 0;
        }
        assertEquals(0.25, kept / (double) n, 0.02);
        assertArrayEquals(peft, MergeOps.randomPruned(x, 0.25, true, 7).toFloatArray(), "same seed, same mask");
        // mergekit's DARE keeps the L1 norm exactly.
        NDArray y = manager.create(new float[] {1, -2, 3, -4, 5, -6, 7, -8});
        NDArray d = MergeOps.dareMerging(List.of(y), new float[] {1}, 0.5, false, SignMethod.TOTAL, 3);
        assertEquals(36f, d.abs().sum().getFloat(), 1e-4f);
        // density 1 is task arithmetic.
        assertArrayEquals(MergeOps.taskArithmetic(List.of(y, y), new float[] {1, 2}).toFloatArray(),
                MergeOps.dareLinear(List.of(y, y), new float[] {1, 2}, 1.0, 3).toFloatArray(), EPS);
    }

    @Test
    void emrElectsTheLargestAgreeingMagnitudeAndRescalesEachTask() {
        MergeOps.Emr e = MergeOps.emr(List.of(t(3, -1, 2), t(-1, -2, 4)));
        // sums 2 -3 6 → + - + ; τ1 agrees everywhere, τ2 on the last two
        assertArrayEquals(new float[] {3, -2, 4}, e.unified().toFloatArray(), EPS);
        assertArrayEquals(new float[] {1, 1, 1}, e.masks().get(0).toFloatArray());
        assertArrayEquals(new float[] {0, 1, 1}, e.masks().get(1).toFloatArray());
        assertEquals(6f / 9f, e.rescaler(0), EPS);
        assertEquals(7f / 6f, e.rescaler(1), EPS);
        assertArrayEquals(new float[] {2, -4f / 3f, 8f / 3f}, e.taskDelta(0).toFloatArray(), 1e-5f);
    }

    @Test
    void truncatedSvdKeepsTheTopSingularPartAndClampsAtAQuantile() {
        NDArray d = manager.create(new float[] {3, 0, 0, 0, 2, 0, 0, 0, 1}, new Shape(3, 3));
        MergeOps.Factors f = MergeOps.truncatedSvd(d, 2, null);
        assertEquals(new Shape(2, 3), f.a().getShape());
        assertEquals(new Shape(3, 2), f.b().getShape());
        assertArrayEquals(new float[] {3, 0, 0, 0, 2, 0, 0, 0, 0}, f.b().matMul(f.a()).toFloatArray(), 1e-5f);
        assertEquals(2.5, MergeOps.quantile(t(4, 1, 3, 2), 0.5), 1e-9);
        assertEquals(3.7, MergeOps.quantile(t(4, 1, 3, 2), 0.9), 1e-6);
        // B = U S has entries ±3, ±2; A = Vᵀ ±1; the 0.5 quantile of those 12 values is 0.
        MergeOps.Factors clamped = MergeOps.truncatedSvd(d, 2, 0.5);
        assertTrue(clamped.b().abs().max().getFloat() <= 1e-6f);
        assertThrows(IllegalArgumentException.class, () -> MergeOps.truncatedSvd(d, 4, null));
    }

    @Test
    void densityOutsideTheUnitIntervalIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> MergeOps.ties(List.of(t(1)), new float[] {1}, 0, SignMethod.TOTAL));
        assertThrows(IllegalArgumentException.class, () -> MergeOps.dareLinear(List.of(t(1)), new float[] {1}, 1.5, 0));
        assertThrows(IllegalArgumentException.class, () -> MergeOps.taskArithmetic(List.of(t(1)), new float[] {1, 2}));
    }
}
