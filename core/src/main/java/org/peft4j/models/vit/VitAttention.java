package org.peft4j.models.vit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.Module;
import org.peft4j.nn.Ops;

/**
 * Multi-head self-attention, with either separate q/k/v linears (Hugging Face) or one fused qkv
 * linear (timm). DJL has no scaled-dot-product attention, so it is written out; q is scaled
 * before the product because it is smaller than the score matrix. Key/value prefixes (prefix
 * tuning) are prepended after the projections; without a mask they need no other change.
 */
public final class VitAttention extends Module {

    private final int numHeads;
    private final float scale;
    private final LinearLayer qkv;
    private final LinearLayer query;
    private final LinearLayer key;
    private final LinearLayer value;
    private final LinearLayer output;

    VitAttention(VitConfig c, VitNaming naming) {
        numHeads = c.numHeads();
        int d = c.hiddenSize();
        scale = (float) (1.0 / Math.sqrt(d / (double) numHeads));
        if (naming.fusedQkv()) {
            qkv = addModule(naming.attentionPrefix + "qkv", new LinearLayer(d, 3L * d, c.qkvBias()));
            query = key = value = null;
        } else {
            qkv = null;
            query = addModule(naming.attentionPrefix + "query", new LinearLayer(d, d, c.qkvBias()));
            key = addModule(naming.attentionPrefix + "key", new LinearLayer(d, d, c.qkvBias()));
            value = addModule(naming.attentionPrefix + "value", new LinearLayer(d, d, c.qkvBias()));
        }
        output = addModule(naming.attentionOutput, new LinearLayer(d, d, true));
    }

    @Override
    public NDArray forward(NDArray x, ForwardContext ctx) {
        return attend(x, null, ctx);
    }

    /** Self-attention over {@code x [B, N, d]}, with optional key/value prefixes {@code [B, L, d]} (null: none). */
    NDArray attend(NDArray x, NDList prefixes, ForwardContext ctx) {
        Shape s = x.getShape();
        long b = s.get(0);
        long n = s.get(1);
        long d = s.get(2);
        long hd = d / numHeads;
        NDArray q;
        NDArray k;
        NDArray v;
        if (qkv != null) {
            NDArray all = qkv.forward(x, ctx).reshape(b, n, 3, numHeads, hd).transpose(2, 0, 3, 1, 4);
            q = all.get(0);
            k = all.get(1);
            v = all.get(2);
        } else {
            q = heads(query.forward(x, ctx), b, n, hd);
            k = heads(key.forward(x, ctx), b, n, hd);
            v = heads(value.forward(x, ctx), b, n, hd);
        }
        if (prefixes != null) {
            long l = prefixes.get(0).getShape().get(1);
            k = NDArrays.concat(new NDList(heads(prefixes.get(0), b, l, hd), k), 2);
            v = NDArrays.concat(new NDList(heads(prefixes.get(1), b, l, hd), v), 2);
        }
        NDArray context = weights(q, k, ctx).matMul(v).transpose(0, 2, 1, 3).reshape(b, n, d);
        return output.forward(context, ctx);
    }

    /** softmax(q kᵀ · scale); the score matrix goes as soon as the weights exist. */
    private NDArray weights(NDArray q, NDArray k, ForwardContext ctx) {
        return freeingIntermediates(() -> Ops.scale(q, scale).matMul(k.transpose(0, 1, 3, 2)).softmax(-1));
    }

    /** Keys and values {@code [B, P, d]} of normalised tokens through the base projections (no hooks). */
    NDList keyValuesOf(NDArray tokens) {
        if (qkv != null) {
            long d = tokens.getShape().get(2);
            NDArray kv = qkv.baseForward(tokens);
            return new NDList(kv.get(":, :, " + d + ":" + 2 * d), kv.get(":, :, " + 2 * d + ":"));
        }
        return new NDList(key.baseForward(tokens), value.baseForward(tokens));
    }

    private NDArray heads(NDArray t, long b, long n, long hd) {
        return t.reshape(b, n, numHeads, hd).transpose(0, 2, 1, 3);
    }
}
