package org.peft4j.models.sam;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.Initializers;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.Module;
import org.peft4j.nn.Ops;

/**
 * SAM's encoder attention on a token grid {@code [B, H, W, C]} (a window or the whole map): fused
 * {@code qkv}, {@code softmax((q·s)kᵀ + rel) v}, {@code proj}. The decomposed relative positions add
 * {@code q(i,j)·Rh[i−i'+S−1] + q(i,j)·Rw[j−j'+S−1]} with the unscaled q (official
 * {@code add_decomposed_rel_pos}); einsum is missing in DJL, so each is a batched matmul over rows or columns.
 */
final class SamAttention extends Module {

    private final int numHeads;
    private final int headDim;
    private final float scale;
    private final LinearLayer qkv;
    private final LinearLayer proj;
    private final Parameter relPosH;
    private final Parameter relPosW;

    /** {@code size}: the window (or grid) side the relative-position tables cover. */
    SamAttention(int dim, int numHeads, boolean qkvBias, boolean useRelPos, int size) {
        this.numHeads = numHeads;
        this.headDim = dim / numHeads;
        this.scale = (float) Math.pow(headDim, -0.5);
        qkv = addModule("qkv", new LinearLayer(dim, 3L * dim, qkvBias));
        proj = addModule("proj", new LinearLayer(dim, dim, true));
        relPosH = useRelPos ? addParam("rel_pos_h", new Shape(2L * size - 1, headDim), Initializers.zeros()) : null;
        relPosW = useRelPos ? addParam("rel_pos_w", new Shape(2L * size - 1, headDim), Initializers.zeros()) : null;
    }

    @Override
    public NDArray forward(NDArray x, ForwardContext ctx) {
        return attend(x, null, ctx);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return inputShapes;
    }

    /**
     * {@code x [B, H, W, C]} → {@code [B, H, W, C]}; {@code prefixes} (nullable) are extra keys and
     * values {@code [B, P, C]} every query also attends to, without relative positions (prefix tuning).
     */
    NDArray attend(NDArray x, NDList prefixes, ForwardContext ctx) {
        Shape s = x.getShape();
        long b = s.get(0);
        int h = (int) s.get(1);
        int w = (int) s.get(2);
        long c = s.get(3);
        NDArray t = qkv.forward(x.reshape(b, (long) h * w, c), ctx)
                .reshape(b, (long) h * w, 3, numHeads, headDim).transpose(2, 0, 3, 1, 4)
                .reshape(3, b * numHeads, (long) h * w, headDim);
        NDArray q = t.get(0);
        NDArray k = t.get(1);
        NDArray v = t.get(2);
        NDArray pk = prefixes == null ? null : heads(prefixes.get(0), b);
        NDArray pv = prefixes == null ? null : heads(prefixes.get(1), b);
        long rows = b * numHeads;
        long tokens = (long) h * w;
        // Outside training, a large score map is made a few heads at a time: a global block of ViT-B
        // at 1024² has 12 maps of 4096² (0.8 GB together, and softmax makes another).
        long chunk = ctx.training() ? rows : Math.max(1, Math.min(rows, inferenceMapBytes / (4 * tokens * tokens)));
        NDArray out;
        if (chunk >= rows) {
            out = heads(q, k, v, pk, pv, h, w, ctx.training());
        } else {
            NDList parts = new NDList();
            for (long r0 = 0; r0 < rows; r0 += chunk) {
                String range = r0 + ":" + Math.min(rows, r0 + chunk);
                try (NDScope scope = new NDScope()) { // free each chunk's maps before the next
                    NDArray part = heads(q.get(range), k.get(range), v.get(range), pk == null ? null : pk.get(range),
                            pv == null ? null : pv.get(range), h, w, false);
                    NDScope.unregister(part);
                    parts.add(part);
                }
            }
            out = NDArrays.concat(parts, 0);
        }
        out = out.reshape(b, numHeads, h, w, headDim).transpose(0, 2, 3, 1, 4).reshape(b, h, w, c);
        return proj.forward(out, ctx);
    }

    /** Largest score map made at once outside training (tests lower it to exercise the chunks). */
    static long inferenceMapBytes = 64L << 20;

    /** Attention of rows of (batch · heads) {@code q, k, v [R, HW, hd]}, prefixes {@code [R, P, hd]} or null. */
    private NDArray heads(NDArray q, NDArray k, NDArray v, NDArray pk, NDArray pv, int h, int w, boolean training) {
        NDArray qs = Ops.scale(q, scale); // a scalar on the autograd path must outlive the backward (DJL-NOTES)
        NDArray logits = qs.matMul(k.transpose(0, 2, 1)); // [R, HW, HW]
        if (relPosH != null) {
            logits = addRelativePositions(logits, q, h, w, training);
        }
        if (pk != null) {
            logits = NDArrays.concat(new NDList(qs.matMul(pk.transpose(0, 2, 1)), logits), 2);
            v = NDArrays.concat(new NDList(pv, v), 1);
        }
        return logits.softmax(-1).matMul(v); // [R, HW, hd]
    }

    /** Keys and values {@code [B, P, C]} of normalised tokens {@code [B, P, C]} through the base qkv (no hooks). */
    NDList keyValuesOf(NDArray tokens) {
        long c = tokens.getShape().get(2);
        NDArray kv = qkv.baseForward(tokens);
        return new NDList(kv.get(":, :, " + c + ":" + 2 * c), kv.get(":, :, " + 2 * c + ":"));
    }

    /** {@code [B, P, C]} → {@code [B·nH, P, hd]}, heads split as the keys are. */
    private NDArray heads(NDArray p, long b) {
        long len = p.getShape().get(1);
        return p.reshape(b, len, numHeads, headDim).transpose(0, 2, 1, 3).reshape(b * numHeads, len, headDim);
    }

    /**
     * {@code logits + rel}, the decomposed relative positions of queries {@code q [B·nH, HW, hd]}:
     * {@code rel_h [B·nH, H, W, H]} broadcast over key columns plus {@code rel_w [B·nH, H, W, W]} over
     * key rows. Outside training the sums go in place: at 1024² a global block's map is 0.8 GB.
     */
    private NDArray addRelativePositions(NDArray logits, NDArray q, int h, int w, boolean training) {
        long bn = q.getShape().get(0);
        NDArray rh = table(value(relPosH), h); // [H, H, hd]
        NDArray rw = table(value(relPosW), w); // [W, W, hd]
        NDArray rq = q.reshape(bn, h, w, headDim);
        // rel_h[b, i, j, i'] = Σ_c rq[b, i, j, c] · rh[i, i', c]: a matmul per query row i
        NDArray relH = rq.transpose(1, 0, 2, 3).reshape(h, bn * w, headDim).matMul(rh.transpose(0, 2, 1))
                .reshape(h, bn, w, h).transpose(1, 0, 2, 3).reshape(bn, h, w, h, 1);
        // rel_w[b, i, j, j'] = Σ_c rq[b, i, j, c] · rw[j, j', c]: a matmul per query column j
        NDArray relW = rq.transpose(2, 0, 1, 3).reshape(w, bn * h, headDim).matMul(rw.transpose(0, 2, 1))
                .reshape(w, bn, h, w).transpose(1, 2, 0, 3).reshape(bn, h, w, 1, w);
        NDArray l5 = logits.reshape(bn, h, w, h, w);
        if (training) {
            return l5.add(relH).add(relW).reshape(bn, (long) h * w, (long) h * w);
        }
        l5.addi(relH);
        l5.addi(relW);
        return l5.reshape(bn, (long) h * w, (long) h * w);
    }

    /**
     * {@code R[i, i', :] = table[i − i' + S − 1]} for a side of {@code size}. A table for another
     * size (a checkpoint at another resolution) is refused rather than resized.
     */
    private static NDArray table(NDArray relPos, int size) {
        long rows = relPos.getShape().get(0);
        if (rows != 2L * size - 1) {
            throw new IllegalArgumentException("relative-position table of " + rows + " rows for a side of " + size
                    + " (needs " + (2 * size - 1) + "); resizing tables is not supported");
        }
        long[] index = new long[size * size];
        for (int i = 0; i < size; i++) {
            for (int j = 0; j < size; j++) {
                index[i * size + j] = i - j + size - 1;
            }
        }
        NDArray idx = Ops.owned(relPos.getManager().create(index));
        return relPos.get(idx).reshape(size, size, relPos.getShape().get(1));
    }
}
