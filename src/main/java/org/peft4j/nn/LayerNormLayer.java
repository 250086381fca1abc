package org.peft4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.LayerNorm;

/**
 * LayerNorm over the last axis with PyTorch's parameter names. DJL's LayerNorm block normalises
 * over every non-batch axis and names its parameters gamma/beta, so we call the functional form.
 */
public final class LayerNormLayer extends Module {

    private final Shape normalizedShape;
    private final float eps;
    private final Parameter weight;
    private final Parameter bias;

    public LayerNormLayer(long dim, float eps) {
        this.normalizedShape = new Shape(dim);
        this.eps = eps;
        weight = addParam("weight", normalizedShape, Initializers.ones());
        bias = addParam("bias", normalizedShape, Initializers.zeros());
    }

    @Override
    public NDArray forward(NDArray x, boolean training) {
        return LayerNorm.layerNorm(x, normalizedShape, value(weight), value(bias), eps).singletonOrThrow();
    }
}
