package org.peft4j.nn;

/** A hook whose effect can be folded into its host's weights and taken out again. */
public interface MergeableHook extends Hook {

    /** Folds this hook into the host's weights; with {@code safe}, NaN/Inf in the result changes nothing and throws. */
    void merge(boolean safe);

    /** Undoes {@link #merge}. */
    void unmerge();

    /** Why this hook cannot be merged into its host as it stands (e.g. a shift but no bias), or null. */
    default String mergeBlocker() {
        return null;
    }
}
