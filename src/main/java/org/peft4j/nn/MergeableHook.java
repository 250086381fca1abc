package org.peft4j.nn;

/** A hook whose effect can be folded into its host's weights and taken out again. */
public interface MergeableHook extends Hook {

    /** Folds this hook into the host's weights; with {@code safe}, NaN/Inf in the result changes nothing and throws. */
    void merge(boolean safe);

    /** Undoes {@link #merge}. */
    void unmerge();
}
