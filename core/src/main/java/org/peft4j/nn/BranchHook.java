package org.peft4j.nn;

import ai.djl.ndarray.NDArray;

/**
 * A hook on a residual branch of a block ({@code x + branch(x)}): bottleneck adapters after the
 * attention or the MLP (Houlsby, Pfeiffer) or beside it (AdaptFormer), gated ones (MoPEFT).
 */
public interface BranchHook extends Hook {

    /** The branch's new output, from the stream {@code input} entering the branch and its output so far. */
    NDArray apply(NDArray input, NDArray output, ForwardContext ctx);
}
