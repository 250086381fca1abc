package org.peft4j.tuners.routing;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import org.peft4j.nn.BranchHook;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.Hook;
import org.peft4j.nn.Initializers;
import org.peft4j.nn.VisualInputs;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A sequential bottleneck adapter with a routing function (METHODS.md §3), on a residual branch's
 * output h: {@code h ← h + W_up φ(R(W_down h + b_d, W_down x_R + b_d)) + b_u}. Down is
 * kaiming-uniform, Up and both biases zero, so a new adapter is the identity. With
 * {@link Routing#NONE} it is Houlsby's adapter.
 */
final class RoutedAdapter implements BranchHook {

    private final Routing routing;
    private final boolean gelu;
    private final Parameter downWeight;
    private final Parameter downBias;
    private final Parameter upWeight;
    private final Parameter upBias;

    RoutedAdapter(String prefix, int dim, int bottleneck, Routing routing, boolean gelu) {
        this.routing = routing;
        this.gelu = gelu;
        downWeight = Hook.parameter(prefix + ".down.weight", new Shape(bottleneck, dim), Initializers.uniformFanIn(dim));
        downBias = Hook.parameter(prefix + ".down.bias", new Shape(bottleneck), Initializers.zeros());
        upWeight = Hook.parameter(prefix + ".up.weight", new Shape(dim, bottleneck), Initializers.zeros());
        upBias = Hook.parameter(prefix + ".up.bias", new Shape(dim), Initializers.zeros());
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
        NDArray z = Linear.linear(output, downWeight.getArray(), downBias.getArray()).singletonOrThrow();
        if (routing != Routing.NONE) {
            NDArray feature = VisualInputs.require(ctx, VisualInputs.FEATURE, "an adapter with routing '" + routing.configName + "'");
            z = routing.apply(z, Linear.linear(feature, downWeight.getArray(), downBias.getArray()).singletonOrThrow());
        }
        NDArray a = Linear.linear(gelu ? Activation.gelu(z) : Activation.relu(z), upWeight.getArray(), upBias.getArray())
                .singletonOrThrow();
        return output.add(a);
    }
}
