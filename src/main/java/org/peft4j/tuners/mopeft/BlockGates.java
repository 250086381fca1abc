package org.peft4j.tuners.mopeft;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.Hook;
import org.peft4j.nn.Initializers;
import org.peft4j.nn.KeyValueHook;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One block's attention-side MoPEFT piece, on the block's key/value hook point, which sees the
 * attention input H on the whole token map before any window partitioning: it computes the gates
 * of the q and v LoRAs and of the prefix from H (so with windowed attention every window of an
 * image gets that image's gate), keeps the LoRA gates for {@link GatedLora} to read in the same
 * forward pass, and returns the gated prefixes {@code g_P·P_K}, {@code g_P·P_V} (or none).
 */
final class BlockGates implements KeyValueHook {

    final Gate loraQ;
    final Gate loraV;
    final Gate prefix;
    private final Parameter keys;
    private final Parameter values;
    private final int length;
    private final int dim;
    /** This forward pass's LoRA gates {@code [B]}, set before the attention runs. */
    NDArray currentQ;
    NDArray currentV;

    BlockGates(int dim, MopeftConfig c) {
        this.dim = dim;
        this.length = c.prefixLength();
        loraQ = c.has("lora") ? new Gate("gate_lora_q", dim) : null;
        loraV = c.has("lora") ? new Gate("gate_lora_v", dim) : null;
        prefix = c.has("prefix") ? new Gate("gate_prefix", dim) : null;
        keys = c.has("prefix") ? Hook.parameter("prefix_key", new Shape(length, dim), Initializers.normal(0.02f)) : null;
        values = c.has("prefix") ? Hook.parameter("prefix_value", new Shape(length, dim), Initializers.normal(0.02f)) : null;
    }

    @Override
    public Map<String, Parameter> parameters() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        for (Gate g : new Gate[] {loraQ, loraV, prefix}) {
            if (g != null) {
                m.put(g.weight.getName(), g.weight);
                m.put(g.bias.getName(), g.bias);
            }
        }
        if (keys != null) {
            m.put("prefix_key", keys);
            m.put("prefix_value", values);
        }
        return m;
    }

    @Override
    public NDList prefixes(NDArray h, ForwardContext ctx) {
        boolean training = ctx.training();
        if (loraQ != null) {
            currentQ = loraQ.of(h, training);
            currentV = loraV.of(h, training);
        }
        if (prefix == null) {
            return null;
        }
        NDArray g = prefix.of(h, training).reshape(-1, 1, 1); // [B, 1, 1]
        return new NDList(g.mul(keys.getArray().expandDims(0)), g.mul(values.getArray().expandDims(0)));
    }
}
