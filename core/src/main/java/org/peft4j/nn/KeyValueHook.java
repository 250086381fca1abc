package org.peft4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;

/**
 * A hook on a block's self-attention: prefix tuning prepends learned keys and values. The block
 * passes the attention's input {@code h [B, N, d]} before any window partitioning, so a gate can
 * pool the whole token map; the attention prepends the prefixes to every window.
 */
public interface KeyValueHook extends Hook {

    /**
     * Key and value prefixes, each {@code [B, L, d]} in the model width (heads are split by the
     * attention), or null for none (a hook that only reads h, such as MoPEFT's gates).
     */
    NDList prefixes(NDArray h, ForwardContext ctx);
}
