package org.peft4j.tuners.mopeft;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.Hook;
import org.peft4j.nn.Initializers;
import org.peft4j.nn.LayerHook;
import org.peft4j.nn.LinearLayer;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * MoPEFT's LoRA on a query or value projection: {@code y += g_L · (x Aᵀ) Bᵀ}, the gate in place of
 * α/r (UniPELT). On a fused qkv linear it adapts the q and v thirds, each with its own A, B and
 * gate, and leaves k alone. The gates come from the block's {@link BlockGates}, computed on the
 * whole token map; the input here may be the windows of each image.
 */
final class GatedLora implements LayerHook {

    private final BlockGates gates;
    private final boolean fused;
    private final boolean isValue;
    private final long out;
    private final Parameter aQ;
    private final Parameter bQ;
    private final Parameter aV;
    private final Parameter bV;

    /** {@code fused}: a qkv linear (q and v thirds); else a query ({@code isValue} false) or value projection. */
    GatedLora(LinearLayer layer, BlockGates gates, int rank, boolean fused, boolean isValue) {
        this.gates = gates;
        this.fused = fused;
        this.isValue = isValue;
        long in = layer.inFeatures();
        out = fused ? layer.outFeatures() / 3 : layer.outFeatures();
        String q = fused ? "lora_A.q.weight" : "lora_A.weight";
        aQ = fused || !isValue ? Hook.parameter(q, new Shape(rank, in), Initializers.uniformFanIn(in)) : null;
        bQ = fused || !isValue ? Hook.parameter(q.replace("lora_A", "lora_B"), new Shape(out, rank), Initializers.zeros()) : null;
        String v = fused ? "lora_A.v.weight" : "lora_A.weight";
        aV = fused || isValue ? Hook.parameter(v, new Shape(rank, in), Initializers.uniformFanIn(in)) : null;
        bV = fused || isValue ? Hook.parameter(v.replace("lora_A", "lora_B"), new Shape(out, rank), Initializers.zeros()) : null;
    }

    @Override
    public Map<String, Parameter> parameters() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        for (Parameter p : new Parameter[] {aQ, bQ, aV, bV}) {
            if (p != null) {
                m.put(p.getName(), p);
            }
        }
        return m;
    }

    @Override
    public NDArray adaptOutput(NDArray x, NDArray base, NDArray y, ForwardContext ctx) {
        if (gates.currentQ == null) {
            throw new IllegalStateException("MoPEFT's LoRA ran before its block computed the gates");
        }
        int dims = x.getShape().dimension();
        long batch = x.getShape().get(0);
        NDArray dq = aQ == null ? null : delta(x, aQ, bQ).mul(Gate.expand(gates.currentQ, batch, dims));
        NDArray dv = aV == null ? null : delta(x, aV, bV).mul(Gate.expand(gates.currentV, batch, dims));
        if (!fused) {
            return y.add(isValue ? dv : dq);
        }
        long[] shape = dq.getShape().getShape().clone();
        NDArray zeros = dq.getManager().zeros(new Shape(shape), dq.getDataType());
        return y.add(NDArrays.concat(new NDList(dq, zeros, dv), -1)); // [q | k | v]
    }

    private static NDArray delta(NDArray x, Parameter a, Parameter b) {
        return Linear.linear(Linear.linear(x, a.getArray()).singletonOrThrow(), b.getArray()).singletonOrThrow();
    }
}
