package org.peft4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;

import java.util.List;
import java.util.function.Supplier;

/** In-place replacement of a layer's weights when a hook is merged or unmerged. */
public final class WeightUpdate {

    private WeightUpdate() {}

    /**
     * Computes new values for {@code targets} and writes them in place. With {@code safe}, every new
     * value is checked for NaN/Inf first, and nothing is written when one has any. Temporaries are
     * freed here: they attach to the weights' manager (DJL-NOTES).
     */
    public static void replace(boolean safe, String what, List<NDArray> targets, Supplier<List<NDArray>> newValues) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            List<NDArray> values = newValues.get();
            if (values.size() != targets.size()) {
                throw new IllegalStateException("expected " + targets.size() + " new values, got " + values.size());
            }
            if (safe) {
                for (NDArray v : values) {
                    if (v.isInfinite().logicalOr(v.isNaN()).any().getBoolean()) {
                        throw new IllegalStateException(
                                "merging " + what + " would put NaN or Inf into the weights; nothing was changed");
                    }
                }
            }
            for (int i = 0; i < targets.size(); i++) {
                Initializers.copyInto(targets.get(i), values.get(i));
            }
        }
    }
}
