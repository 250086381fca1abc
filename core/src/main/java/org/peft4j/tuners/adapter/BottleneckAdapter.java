package org.peft4j.tuners.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.initializer.Initializer;
import org.peft4j.nn.Hook;
import org.peft4j.nn.BranchHook;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.Initializers;
import org.peft4j.nn.Ops;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One bottleneck adapter on a residual branch, all of its math:
 * {@code a(z) = Up(σ(Down z + b_d)) + b_u}, Down {@code [m, d]} kaiming-uniform (PyTorch's Linear
 * default), Up {@code [d, m]} and both biases zero, so a new adapter is the identity.
 * Sequential (Houlsby, Pfeiffer): {@code h ← h + a(h)} on the branch output h. Parallel
 * (AdaptFormer): {@code h ← h + s·a(x)} on the branch input x.
 */
public final class BottleneckAdapter implements BranchHook {

    private final String prefix;
    private final boolean parallel;
    private final float scale;
    private final boolean gelu;
    private final Parameter downWeight;
    private final Parameter downBias;
    private final Parameter upWeight;
    private final Parameter upBias;

    BottleneckAdapter(String prefix, int dim, AdapterConfig config, boolean parallel) {
        this.prefix = prefix;
        this.parallel = parallel;
        this.scale = (float) config.scale();
        this.gelu = config.activation().equals("gelu");
        int m = config.bottleneck();
        downWeight = param("down.weight", new Shape(m, dim), Initializers.uniformFanIn(dim));
        downBias = param("down.bias", new Shape(m), Initializers.zeros());
        upWeight = param("up.weight", new Shape(dim, m), Initializers.zeros());
        upBias = param("up.bias", new Shape(dim), Initializers.zeros());
    }

    private Parameter param(String name, Shape shape, Initializer init) {
        return Hook.parameter(prefix + "." + name, shape, init);
    }

    @Override
    public Map<String, Parameter> parameters() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        for (Parameter p : new Parameter[] {downWeight, downBias, upWeight, upBias}) {
            m.put(p.getName(), p);
        }
        return m;
    }

    @Override
    public NDArray apply(NDArray input, NDArray output, ForwardContext ctx) {
        NDArray z = Linear.linear(parallel ? input : output, downWeight.getArray(), downBias.getArray()).singletonOrThrow();
        NDArray a = Linear.linear(gelu ? Activation.gelu(z) : Activation.relu(z), upWeight.getArray(), upBias.getArray())
                .singletonOrThrow();
        return output.add(scale == 1f ? a : Ops.scale(a, scale));
    }
}
