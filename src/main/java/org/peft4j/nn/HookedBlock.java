package org.peft4j.nn;

/** A transformer block that offers the block-level hook points of {@link BlockHooks}. */
public interface HookedBlock {

    BlockHooks blockHooks();
}
