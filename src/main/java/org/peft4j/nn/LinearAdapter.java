package org.peft4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;

import java.util.Map;

/**
 * A trainable correction attached to a {@link LinearLayer}: LoRA, MLAE, routed LoRA, ... Each tuner
 * implements the math; the layer handles activation, merging and several adapters at once.
 */
public interface LinearAdapter {

    /** What this adapter adds to the base output {@code x Wᵀ + b}, already scaled. */
    NDArray delta(NDArray x, boolean training);

    /** The same correction as a dense {@code [out, in]} matrix, for merging into W. */
    NDArray deltaWeight();

    /** Parameters by their names under the layer ({@code lora_A.weight}, ...), in save order. */
    Map<String, Parameter> parameters();

    /** Allocates and initialises the parameters. */
    void initialize(NDManager manager);
}
