package org.peft4j.tuners.mopeft;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.Hook;
import org.peft4j.nn.HookedBlock;
import org.peft4j.nn.Initializers;
import org.peft4j.nn.KeyValueHook;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One block's attention-side MoPEFT piece, on the block's key/value hook point, which sees the
 * attention input H on the whole token map before any window partitioning: it computes the gates
 * of the q and v LoRAs, of the prefix and of the visual prompt from H (so with windowed attention
 * every window of an image gets that image's gate), keeps the LoRA gates for {@link GatedLora} (and
 * the central weights for {@link GatedAdapter}) to read in the same forward pass, and returns the
 * gated prefixes {@code g_P·P_K, g_P·P_V} and the gated prompt keys and values {@code g_V·K(P)},
 * {@code g_V·V(P)} (the prompt through the block's own norm and projections, VPT-deep's effect).
 *
 * <p>The optional central gate (off by default, as in UniPELT) is a softmax over the submodules,
 * {@code w = softmax(Linear(mean_tokens H))}, one weight per image and submodule; each submodule's
 * gate is multiplied by its weight.
 */
final class BlockGates implements KeyValueHook {

    final Gate loraQ;
    final Gate loraV;
    final Gate prefix;
    final Gate vpt;
    private final Parameter keys;
    private final Parameter values;
    private final Parameter prompt;
    private final Parameter centralWeight;
    private final Parameter centralBias;
    private final List<String> submodules;
    private final HookedBlock block;
    private final int length;
    private final int promptLength;
    /** This forward pass's LoRA gates {@code [B]}, set before the attention runs. */
    NDArray currentQ;
    NDArray currentV;
    /** This forward pass's central weights {@code [B, S]} (null without a central gate). */
    NDArray currentCentral;
    final double[] centralSum;
    long centralCount;

    BlockGates(HookedBlock block, MopeftConfig c) {
        int dim = block.blockHooks().dim();
        this.block = block;
        this.length = c.prefixLength();
        this.promptLength = c.prefixLength();
        this.submodules = c.submodules();
        loraQ = c.has("lora") ? new Gate("gate_lora_q", dim) : null;
        loraV = c.has("lora") ? new Gate("gate_lora_v", dim) : null;
        prefix = c.has("prefix") ? new Gate("gate_prefix", dim) : null;
        vpt = c.has("vpt") ? new Gate("gate_vpt", dim) : null;
        keys = c.has("prefix") ? Hook.parameter("prefix_key", new Shape(length, dim), Initializers.normal(0.02f)) : null;
        values = c.has("prefix") ? Hook.parameter("prefix_value", new Shape(length, dim), Initializers.normal(0.02f)) : null;
        float bound = (float) Math.sqrt(6.0 / (block.blockHooks().tokenFanIn() + dim)); // VPT's init
        prompt = c.has("vpt") ? Hook.parameter("vpt_prompt", new Shape(promptLength, dim),
                (m, s, t) -> m.randomUniform(-bound, bound, s, t)) : null;
        int s = submodules.size();
        centralWeight = c.central() ? Hook.parameter("central_gate.weight", new Shape(s, dim), Initializers.uniformFanIn(dim)) : null;
        centralBias = c.central() ? Hook.parameter("central_gate.bias", new Shape(s), Initializers.uniformFanIn(dim)) : null;
        centralSum = new double[s];
    }

    List<String> submodulesForReport() {
        return submodules;
    }

    /** The column of {@code submodule} in the central weights. */
    int column(String submodule) {
        return submodules.indexOf(submodule);
    }

    @Override
    public Map<String, Parameter> parameters() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        for (Gate g : new Gate[] {loraQ, loraV, prefix, vpt}) {
            if (g != null) {
                m.put(g.weight.getName(), g.weight);
                m.put(g.bias.getName(), g.bias);
            }
        }
        if (keys != null) {
            m.put("prefix_key", keys);
            m.put("prefix_value", values);
        }
        if (prompt != null) {
            m.put("vpt_prompt", prompt);
        }
        if (centralWeight != null) {
            m.put("central_gate.weight", centralWeight);
            m.put("central_gate.bias", centralBias);
        }
        return m;
    }

    @Override
    public NDList prefixes(NDArray h, ForwardContext ctx) {
        boolean training = ctx.training();
        currentCentral = centralWeight == null ? null : central(h, training);
        List<Gate> attentionGates = new java.util.ArrayList<>();
        for (Gate g : new Gate[] {loraQ, loraV, prefix, vpt}) {
            if (g != null) {
                attentionGates.add(g);
            }
        }
        NDArray all = Gate.ofAll(attentionGates, h, training); // [B, G], one matmul for every gate that reads h
        int column = 0;
        if (loraQ != null) {
            currentQ = centrally(all.get(":, " + column++), "lora");
            currentV = centrally(all.get(":, " + column++), "lora");
        }
        NDList keyParts = new NDList();
        NDList valueParts = new NDList();
        if (prefix != null) {
            NDArray g = centrally(all.get(":, " + column++), "prefix").reshape(-1, 1, 1); // [B, 1, 1]
            keyParts.add(g.mul(keys.getArray().expandDims(0)));
            valueParts.add(g.mul(values.getArray().expandDims(0)));
        }
        if (vpt != null) {
            NDArray g = centrally(all.get(":, " + column), "vpt").reshape(-1, 1, 1);
            NDList kv = block.promptKeyValues(prompt.getArray().expandDims(0), ctx); // [1, p, d]
            keyParts.add(g.mul(kv.get(0)));
            valueParts.add(g.mul(kv.get(1)));
        }
        if (keyParts.isEmpty()) {
            return null;
        }
        return keyParts.size() == 1 ? new NDList(keyParts.get(0), valueParts.get(0))
                : new NDList(ai.djl.ndarray.NDArrays.concat(keyParts, 1), ai.djl.ndarray.NDArrays.concat(valueParts, 1));
    }

    /** {@code g [B]} times the central weight of {@code submodule}, when there is a central gate. */
    NDArray centrally(NDArray g, String submodule) {
        return currentCentral == null ? g : g.mul(currentCentral.get(":, " + column(submodule)));
    }

    private NDArray central(NDArray h, boolean training) {
        long b = h.getShape().get(0);
        NDArray pooled = h.reshape(b, -1, h.getShape().get(h.getShape().dimension() - 1)).mean(new int[] {1});
        NDArray w = Linear.linear(pooled, centralWeight.getArray(), centralBias.getArray()).singletonOrThrow().softmax(-1);
        if (!training) {
            float[] v = w.toFloatArray();
            int s = centralSum.length;
            for (int i = 0; i < v.length; i++) {
                centralSum[i % s] += v[i];
            }
            centralCount += v.length / s;
        }
        return w;
    }
}
