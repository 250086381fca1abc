package org.peft4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.initializer.Initializer;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A tuner's piece of one adapter at one hook point of a model (a LoRA on a linear layer, a prompt
 * before a block, an adapter on a residual branch). Its parameters are what trains and what an
 * adapter file holds; the host module calls it from its forward pass while its adapter is active.
 */
public interface Hook {

    /** A hook parameter, declared with its shape and initialiser and allocated by {@link #initialize}. */
    static Parameter parameter(String name, Shape shape, Initializer init) {
        return Parameter.builder().setName(name).setType(Parameter.Type.OTHER).optShape(shape).optInitializer(init).build();
    }

    /**
     * The trainable parameters, by their names under the host module's path ({@code lora_A.weight}),
     * declared with their shapes so that they can be counted and checked before any allocation.
     */
    Map<String, Parameter> parameters();

    /** Allocates and initialises the parameters (a hook that derives values from its host overrides this). */
    default void initialize(NDManager manager) {
        for (Parameter p : parameters().values()) {
            p.initialize(manager, DataType.FLOAT32);
        }
    }

    /**
     * What an adapter file stores for this hook, by name under the host's path: the parameters'
     * values, unless the file form differs from the training form (PiSSA, re-parameterised prefixes).
     */
    default Map<String, NDArray> stateToSave() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        parameters().forEach((k, p) -> out.put(k, p.getArray()));
        return out;
    }
}
