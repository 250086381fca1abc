package org.peft4j.tuners.routing;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import org.peft4j.nn.BranchHook;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.Hook;
import org.peft4j.nn.Initializers;
import org.peft4j.nn.Ops;
import org.peft4j.nn.VisualInputs;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The cross-attention baseline: Flamingo's tanh-gated cross-attention from the text tokens to the
 * image encoder's tokens, on a block's attention branch: {@code h ← h + tanh(g)·O·softmax(QKᵀ/√r)V}
 * with {@code Q = x W_qᵀ}, {@code K, V = v W_kᵀ, v W_vᵀ} in a single r-wide head. r-wide projections
 * give about the parameters of a rank-r LoRA on query and value (4·r·d per block when the widths
 * agree). The gate starts at 0, so a new adapter is the identity.
 */
final class GatedCrossAttention implements BranchHook {

    private final int rank;
    private final Parameter query;
    private final Parameter key;
    private final Parameter value;
    private final Parameter out;
    private final Parameter gate;

    GatedCrossAttention(int dim, int visualDim, int rank) {
        this.rank = rank;
        query = Hook.parameter("cross_attn.q.weight", new Shape(rank, dim), Initializers.uniformFanIn(dim));
        key = Hook.parameter("cross_attn.k.weight", new Shape(rank, visualDim), Initializers.uniformFanIn(visualDim));
        value = Hook.parameter("cross_attn.v.weight", new Shape(rank, visualDim), Initializers.uniformFanIn(visualDim));
        out = Hook.parameter("cross_attn.o.weight", new Shape(dim, rank), Initializers.uniformFanIn(rank));
        gate = Hook.parameter("cross_attn.gate", new Shape(1), Initializers.zeros());
    }

    @Override
    public Map<String, Parameter> parameters() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        for (Parameter p : new Parameter[] {query, key, value, out, gate}) {
            m.put(p.getName(), p);
        }
        return m;
    }

    @Override
    public NDArray apply(NDArray input, NDArray output, ForwardContext ctx) {
        NDArray tokens = VisualInputs.require(ctx, VisualInputs.TOKENS, "cross-attention");
        NDArray q = Ops.scale(Linear.linear(input, query.getArray()).singletonOrThrow(), (float) (1 / Math.sqrt(rank)));
        NDArray k = Linear.linear(tokens, key.getArray()).singletonOrThrow();
        NDArray v = Linear.linear(tokens, value.getArray()).singletonOrThrow();
        NDArray attended = q.matMul(k.transpose(0, 2, 1)).softmax(-1).matMul(v); // [B, N, r]
        NDArray g = gate.getArray().tanh();
        g.attach(input.getManager()); // made from a parameter: free it with the step (DJL-NOTES)
        return output.add(Linear.linear(attended, out.getArray()).singletonOrThrow().mul(g));
    }
}
