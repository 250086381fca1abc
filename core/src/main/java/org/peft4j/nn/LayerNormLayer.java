package org.peft4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.norm.LayerNorm;

/**
 * LayerNorm over the last axis with PyTorch's parameter names. DJL's LayerNorm block normalises
 * over every non-batch axis and names its parameters gamma/beta, so we call the functional form.
 */
public final class LayerNormLayer extends WeightedLayer {

    private final Shape normalizedShape;
    private final float eps;

    public LayerNormLayer(long dim, float eps) {
        super(new Shape(dim), Initializers.ones(), true, Initializers.zeros());
        this.normalizedShape = new Shape(dim);
        this.eps = eps;
    }

    @Override
    protected NDArray compute(NDArray x, NDArray weight, NDArray bias) {
        return LayerNorm.layerNorm(x, normalizedShape, weight, bias, eps).singletonOrThrow();
    }

    @Override
    public int channelAxis() {
        return -1;
    }
}
