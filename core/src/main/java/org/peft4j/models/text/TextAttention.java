package org.peft4j.models.text;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.Module;
import org.peft4j.nn.Ops;

/**
 * Multi-head self-attention of both text families: separate query/key/value linears (BERT,
 * RoBERTa) or GPT-2's fused {@code c_attn}. DJL has no scaled-dot-product attention, so it is
 * written out; q is scaled before the product because it is smaller than the score matrix. The
 * mask is additive and already covers cached keys; key/value prefixes (prefix tuning) come first
 * and are never masked.
 */
final class TextAttention extends Module {

    private final int numHeads;
    private final float scale;
    private final LinearLayer fused;
    private final LinearLayer query;
    private final LinearLayer key;
    private final LinearLayer value;
    private final LinearLayer output;

    /** {@code fusedName}: GPT-2's c_attn path (null for separate q/k/v under {@code separatePrefix}). */
    TextAttention(TextConfig c, String fusedName, String separatePrefix, String outputName) {
        numHeads = c.numHeads();
        int d = c.hiddenSize();
        scale = (float) (1.0 / Math.sqrt(c.headDim()));
        if (fusedName != null) {
            fused = addModule(fusedName, new LinearLayer(d, 3L * d, true));
            query = key = value = null;
        } else {
            fused = null;
            query = addModule(separatePrefix + "query", new LinearLayer(d, d, true));
            key = addModule(separatePrefix + "key", new LinearLayer(d, d, true));
            value = addModule(separatePrefix + "value", new LinearLayer(d, d, true));
        }
        output = addModule(outputName, new LinearLayer(d, d, true));
    }

    @Override
    public NDArray forward(NDArray x, ForwardContext ctx) {
        return attend(x, null, null, -1, null, ctx);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return inputShapes;
    }

    /**
     * {@code x [B, N, d]} → {@code [B, N, d]}. {@code mask}: additive {@code [B, 1, N or 1, T]} over
     * the cached and new keys, or null; {@code cache} (nullable) gets this call's keys and values
     * for layer {@code layer}; {@code prefixes}: keys and values {@code [B, L, d]} or null.
     */
    NDArray attend(NDArray x, NDArray mask, KvCache cache, int layer, NDList prefixes, ForwardContext ctx) {
        Shape s = x.getShape();
        long b = s.get(0);
        long n = s.get(1);
        long d = s.get(2);
        long hd = d / numHeads;
        NDArray q;
        NDArray k;
        NDArray v;
        if (fused != null) {
            NDArray all = fused.forward(x, ctx).reshape(b, n, 3, numHeads, hd).transpose(2, 0, 3, 1, 4);
            q = all.get(0);
            k = all.get(1);
            v = all.get(2);
        } else {
            q = heads(query.forward(x, ctx), b, n, hd);
            k = heads(key.forward(x, ctx), b, n, hd);
            v = heads(value.forward(x, ctx), b, n, hd);
        }
        if (cache != null) {
            NDList kv = cache.append(layer, k, v);
            k = kv.get(0);
            v = kv.get(1);
        }
        NDArray qs = Ops.scale(q, scale);
        NDArray scores = qs.matMul(k.transpose(0, 1, 3, 2)); // [B, H, N, T]
        if (mask != null) {
            scores = scores.add(mask);
        }
        if (prefixes != null) {
            long l = prefixes.get(0).getShape().get(1);
            NDArray pk = heads(prefixes.get(0), b, l, hd);
            NDArray pv = heads(prefixes.get(1), b, l, hd);
            scores = NDArrays.concat(new NDList(qs.matMul(pk.transpose(0, 1, 3, 2)), scores), 3);
            v = NDArrays.concat(new NDList(pv, v), 2);
        }
        NDArray context = scores.softmax(-1).matMul(v).transpose(0, 2, 1, 3).reshape(b, n, d);
        return output.forward(context, ctx);
    }

    /** Keys and values {@code [B, P, d]} of (normalised) tokens through the base projections, no hooks. */
    NDList keyValuesOf(NDArray tokens) {
        if (fused != null) {
            long d = tokens.getShape().get(2);
            NDArray kv = fused.baseForward(tokens);
            return new NDList(kv.get(":, :, " + d + ":" + 2 * d), kv.get(":, :, " + 2 * d + ":"));
        }
        return new NDList(key.baseForward(tokens), value.baseForward(tokens));
    }

    private NDArray heads(NDArray x, long b, long n, long hd) {
        return x.reshape(b, n, numHeads, hd).transpose(0, 2, 1, 3);
    }
}
