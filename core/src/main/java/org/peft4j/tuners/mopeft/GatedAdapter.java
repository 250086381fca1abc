package org.peft4j.tuners.mopeft;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import org.peft4j.nn.BranchHook;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.Hook;
import org.peft4j.nn.Initializers;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * MoPEFT's adapter after a block's MLP (UniPELT): {@code out = h_F + g_A · Up(ReLU(Down(LN(h_F + h_in))))},
 * h_F the MLP output, h_in its input; Up starts at zero, so a new adapter changes nothing. The gate
 * reads h_in (UniPELT leaves the choice open; the MLP input is what the other gates read too).
 */
final class GatedAdapter implements BranchHook {

    final Gate gate;
    private final Parameter lnWeight;
    private final Parameter lnBias;
    private final Parameter downWeight;
    private final Parameter downBias;
    private final Parameter upWeight;
    private final Parameter upBias;
    private final int dim;

    private final BlockGates block;

    /** {@code block}: the block's gates, whose central weights (if any) scale this gate. */
    GatedAdapter(int dim, int bottleneck, BlockGates block) {
        this.dim = dim;
        this.block = block;
        gate = new Gate("gate_adapter", dim);
        lnWeight = Hook.parameter("adapter.ln.weight", new Shape(dim), Initializers.ones());
        lnBias = Hook.parameter("adapter.ln.bias", new Shape(dim), Initializers.zeros());
        downWeight = Hook.parameter("adapter.down.weight", new Shape(bottleneck, dim), Initializers.uniformFanIn(dim));
        downBias = Hook.parameter("adapter.down.bias", new Shape(bottleneck), Initializers.zeros());
        upWeight = Hook.parameter("adapter.up.weight", new Shape(dim, bottleneck), Initializers.zeros());
        upBias = Hook.parameter("adapter.up.bias", new Shape(dim), Initializers.zeros());
    }

    @Override
    public Map<String, Parameter> parameters() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        for (Parameter p : new Parameter[] {gate.weight, gate.bias, lnWeight, lnBias, downWeight, downBias, upWeight, upBias}) {
            m.put(p.getName(), p);
        }
        return m;
    }

    @Override
    public NDArray apply(NDArray input, NDArray output, ForwardContext ctx) {
        NDArray xa = LayerNorm.layerNorm(output.add(input), new Shape(dim), lnWeight.getArray(), lnBias.getArray(), 1e-5f)
                .singletonOrThrow();
        NDArray z = Activation.relu(Linear.linear(xa, downWeight.getArray(), downBias.getArray()).singletonOrThrow());
        NDArray a = Linear.linear(z, upWeight.getArray(), upBias.getArray()).singletonOrThrow();
        NDArray g = Gate.expand(block.centrally(gate.of(input, ctx.training()), "adapter"), input.getShape().get(0),
                input.getShape().dimension());
        return output.add(a.mul(g));
    }
}
