package org.peft4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;

/** A transformer block that offers the block-level hook points of {@link BlockHooks}. */
public interface HookedBlock {

    BlockHooks blockHooks();

    /**
     * Whether the block runs its token hooks (visual prompts join the token sequence). A block on a
     * token grid (SAM's encoder) has no place for extra tokens and says false.
     */
    default boolean takesTokens() {
        return true;
    }

    /**
     * The keys and values {@code [B, P, d]} this block's attention makes of tokens {@code [B, P, d]}
     * entering the block: its first norm, then the base key and value projections (weight hooks such
     * as LoRA are not applied). Deep visual prompts reach a windowed attention this way; since a deep
     * prompt's own outputs are discarded at the next block, this is VPT-deep's whole effect on the
     * other tokens.
     */
    NDList promptKeyValues(NDArray tokens, ForwardContext ctx);
}
