package org.peft4j.tuners.prefix;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import org.peft4j.nn.Hook;
import org.peft4j.nn.Initializers;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * PEFT's prefix re-parameterisation, shared by all blocks:
 * {@code tanh(E W₁ᵀ + b₁) W₂ᵀ + b₂ → [L, 2·blocks·d]}, block j's keys in columns {@code [2j·d, (2j+1)·d)}
 * and values in {@code [(2j+1)·d, (2j+2)·d)}. E ~ N(0, 1) (nn.Embedding), the linears PyTorch's default.
 */
final class PrefixEncoder {

    private final int dim;
    private final Parameter embedding;
    private final Parameter w1;
    private final Parameter b1;
    private final Parameter w2;
    private final Parameter b2;

    PrefixEncoder(int length, int dim, int hidden, int blocks) {
        this.dim = dim;
        long out = 2L * blocks * dim;
        embedding = Hook.parameter("prefix_encoder.embedding.weight", new Shape(length, dim), Initializers.normal(1f));
        w1 = Hook.parameter("prefix_encoder.transform.0.weight", new Shape(hidden, dim), Initializers.uniformFanIn(dim));
        b1 = Hook.parameter("prefix_encoder.transform.0.bias", new Shape(hidden), Initializers.uniformFanIn(dim));
        w2 = Hook.parameter("prefix_encoder.transform.2.weight", new Shape(out, hidden), Initializers.uniformFanIn(hidden));
        b2 = Hook.parameter("prefix_encoder.transform.2.bias", new Shape(out), Initializers.uniformFanIn(hidden));
    }

    Map<String, Parameter> parameters() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        for (Parameter p : new Parameter[] {embedding, w1, b1, w2, b2}) {
            m.put(p.getName(), p);
        }
        return m;
    }

    /** Block {@code slot}'s keys and values, each {@code [L, d]}, from one pass of the MLP. */
    NDList prefixes(int slot) {
        NDArray h = Linear.linear(embedding.getArray(), w1.getArray(), b1.getArray()).singletonOrThrow().tanh();
        NDArray all = Linear.linear(h, w2.getArray(), b2.getArray()).singletonOrThrow();
        long from = 2L * slot * dim;
        return new NDList(all.get(":, " + from + ":" + (from + dim)), all.get(":, " + (from + dim) + ":" + (from + 2 * dim)));
    }
}
