package org.peft4j.nn;

import ai.djl.ndarray.NDArray;

/** A hook on the token sequence {@code [B, N, d]} entering a block: visual prompt tuning inserts or replaces tokens. */
public interface TokenHook extends Hook {

    NDArray apply(NDArray tokens, ForwardContext ctx);
}
