package org.peft4j.tuners.mopeft;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
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
        if (!fused) {
            Parameter a = isValue ? aV : aQ;
            Parameter b = isValue ? bV : bQ;
            return y.add(delta(x, a, b).mul(Gate.expand(isValue ? gates.currentV : gates.currentQ, batch, dims)));
        }
        // Both thirds in two matmuls: z = x·[A_q; A_v]ᵀ, each half times its gate, then z·B'ᵀ with
        // B' = [[B_q, 0], [0, 0], [0, B_v]] ([3·out, 2r]), so k gets nothing and no [.., 3·out] zeros are added.
        // Arrays made from parameters attach to the parameters' manager (DJL-NOTES): move them to the step's.
        NDManager m = x.getManager();
        long r = aQ.getArray().getShape().get(0);
        NDArray a = NDArrays.concat(new NDList(aQ.getArray(), aV.getArray()), 0); // [2r, in]
        a.attach(m);
        NDArray z = Linear.linear(x, a).singletonOrThrow(); // [.., 2r]
        NDArray g = NDArrays.concat(new NDList(
                Gate.expand(gates.currentQ, batch, dims).broadcast(gateShape(z, r)),
                Gate.expand(gates.currentV, batch, dims).broadcast(gateShape(z, r))), -1);
        NDArray zero = m.zeros(new Shape(out, r));
        NDArray top = NDArrays.concat(new NDList(bQ.getArray(), zero), 1);
        top.attach(m);
        NDArray bottom = NDArrays.concat(new NDList(zero, bV.getArray()), 1);
        NDArray bFull = NDArrays.concat(new NDList(top, m.zeros(new Shape(out, 2 * r)), bottom), 0); // [3·out, 2r]
        return y.add(Linear.linear(z.mul(g), bFull).singletonOrThrow());
    }

    /** {@code [batch, 1, .., 1, r]}: a gate broadcast over one half of z's last axis. */
    private static Shape gateShape(NDArray z, long r) {
        long[] shape = new long[z.getShape().dimension()];
        java.util.Arrays.fill(shape, 1);
        shape[0] = z.getShape().get(0);
        shape[shape.length - 1] = r;
        return new Shape(shape);
    }

    private static NDArray delta(NDArray x, Parameter a, Parameter b) {
        return Linear.linear(Linear.linear(x, a.getArray()).singletonOrThrow(), b.getArray()).singletonOrThrow();
    }
}
