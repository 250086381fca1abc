package org.peft4j.nn;

import ai.djl.ndarray.NDArray;

import java.util.List;
import java.util.function.UnaryOperator;

/**
 * A model whose forward pass is a chain of stages (embeddings, each block, the head): applying them in
 * order equals {@code forward}. Gradient checkpointing keeps only each stage's input and recomputes the
 * stage during the backward pass (see {@code train.Trainer}).
 */
public interface Staged {

    /** The stages of one forward pass under {@code ctx}; the first takes the model's input, the last gives its output. */
    List<UnaryOperator<NDArray>> stages(ForwardContext ctx);
}
