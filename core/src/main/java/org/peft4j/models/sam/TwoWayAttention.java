package org.peft4j.models.sam;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.Module;
import org.peft4j.nn.Ops;

/** The mask decoder's attention: q/k/v projections to an inner width (the cross-attentions downsample it), heads contiguous, out-projection back. */
final class TwoWayAttention extends Module {

    private final int heads;
    private final LinearLayer q;
    private final LinearLayer k;
    private final LinearLayer v;
    private final LinearLayer out;

    TwoWayAttention(int dim, int heads, int downsample) {
        int inner = dim / downsample;
        if (inner % heads != 0) {
            throw new IllegalArgumentException("attention width " + inner + " is not a multiple of " + heads + " heads");
        }
        this.heads = heads;
        q = addModule("q_proj", new LinearLayer(dim, inner, true));
        k = addModule("k_proj", new LinearLayer(dim, inner, true));
        v = addModule("v_proj", new LinearLayer(dim, inner, true));
        out = addModule("out_proj", new LinearLayer(inner, dim, true));
    }

    NDArray attend(NDArray query, NDArray key, NDArray value, ForwardContext ctx) {
        NDArray qh = split(q.forward(query, ctx));
        NDArray kh = split(k.forward(key, ctx));
        NDArray vh = split(v.forward(value, ctx));
        long perHead = qh.getShape().get(3);
        NDArray attn = Ops.scale(qh.matMul(kh.transpose(0, 1, 3, 2)), (float) (1 / Math.sqrt(perHead))).softmax(-1);
        NDArray o = attn.matMul(vh); // [B, heads, N, c]
        Shape s = o.getShape();
        return out.forward(o.transpose(0, 2, 1, 3).reshape(s.get(0), s.get(2), s.get(1) * s.get(3)), ctx);
    }

    /** {@code [B, N, C]} → {@code [B, heads, N, C/heads]}. */
    private NDArray split(NDArray x) {
        Shape s = x.getShape();
        return x.reshape(s.get(0), s.get(1), heads, s.get(2) / heads).transpose(0, 2, 1, 3);
    }

    @Override
    public NDArray forward(NDArray x, ForwardContext ctx) {
        return attend(x, x, x, ctx);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return inputShapes;
    }
}
