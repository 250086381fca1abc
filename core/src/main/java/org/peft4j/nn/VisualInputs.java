package org.peft4j.nn;

import ai.djl.ndarray.NDArray;

/**
 * What a vision-language forward pass hands to the tuners inside its language model, through the
 * {@link ForwardContext}: routed LoRA and adapters read the pooled visual feature, cross-attention
 * reads the visual tokens. Defined here, below both the models and the tuners, so neither imports
 * the other.
 */
public final class VisualInputs {

    private VisualInputs() {}

    /** The pooled visual feature {@code [B, 1, d]} (d: the text width), the routing input of every layer. */
    public static final ForwardContext.Key<NDArray> FEATURE = new ForwardContext.Key<>("visual_feature", NDArray.class);

    /** The image encoder's tokens {@code [B, T, d_v]}, what cross-attention attends to. */
    public static final ForwardContext.Key<NDArray> TOKENS = new ForwardContext.Key<>("visual_tokens", NDArray.class);

    /** The value under {@code key}, or an error that says the tuner needs a vision-language forward pass. */
    public static NDArray require(ForwardContext ctx, ForwardContext.Key<NDArray> key, String who) {
        NDArray v = ctx.get(key);
        if (v == null) {
            throw new IllegalStateException(who + " needs the image (" + key.name() + "): run it through the vision-language model");
        }
        return v;
    }

    /** A model that feeds its language model these inputs (the vision-language model). */
    public interface Host {

        /** The width of the image encoder's tokens (what cross-attention's keys and values project from). */
        int visualWidth();

        /** The path of the language model inside the host, where tuners go ({@code text}). */
        String textPath();
    }
}
