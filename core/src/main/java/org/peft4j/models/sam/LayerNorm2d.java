package org.peft4j.models.sam;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.Initializers;
import org.peft4j.nn.Module;

/** SAM's LayerNorm2d: each pixel of {@code [B, C, H, W]} normalised over its channels (biased variance), then scaled and shifted per channel. */
public final class LayerNorm2d extends Module {

    private final Parameter weight;
    private final Parameter bias;
    private final float eps;

    public LayerNorm2d(long channels, float eps) {
        weight = addParam("weight", new Shape(channels), Initializers.ones());
        bias = addParam("bias", new Shape(channels), Initializers.zeros());
        this.eps = eps;
    }

    @Override
    public NDArray forward(NDArray x, ForwardContext ctx) {
        NDArray mean = x.mean(new int[] {1}, true);
        NDArray centred = x.sub(mean);
        NDArray variance = centred.square().mean(new int[] {1}, true);
        NDArray normed = centred.div(variance.add(eps).sqrt());
        return normed.mul(value(weight).reshape(1, -1, 1, 1)).add(value(bias).reshape(1, -1, 1, 1));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return inputShapes;
    }
}
