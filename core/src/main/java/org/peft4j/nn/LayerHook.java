package org.peft4j.nn;

import ai.djl.ndarray.NDArray;

/**
 * A hook on a {@link WeightedLayer}: LoRA and its family, MLAE, IA³, SSF, BitFit. The layer runs
 * {@code base = f(x', W, b)} on the input as adapted by every active hook, then lets each hook
 * change the output in turn.
 */
public interface LayerHook extends Hook {

    /** The input the base computation sees (IA³ scales a feed-forward layer's input); most keep it. */
    default NDArray adaptInput(NDArray x, ForwardContext ctx) {
        return x;
    }

    /**
     * The layer output after this hook, from the layer's original input {@code x}, its plain output
     * {@code base} and the output so far {@code y} (base plus the hooks before this one).
     */
    NDArray adaptOutput(NDArray x, NDArray base, NDArray y, ForwardContext ctx);

    /**
     * Whether this hook can serve its rows of a mixed-adapter batch ({@link AdapterRows}): true when
     * it changes the output only, from the rows' own input and base output.
     */
    default boolean mixable() {
        return false;
    }
}
