package org.peft4j.nn;

import ai.djl.ndarray.NDArray;

/**
 * A hook on a linear layer whose whole effect is a change of that layer's weight: merging it is
 * {@code W ← W + ΔW}, even when ΔW depends on W (DoRA). Weight-space merging reads ΔW here.
 */
public interface WeightDelta {

    /** {@code ΔW [out, in]}, a new array attached to the weight's manager. */
    NDArray weightDelta();
}
