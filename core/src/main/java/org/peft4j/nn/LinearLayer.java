package org.peft4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;

/** {@code y = x Wᵀ + b}, W {@code [out, in]} as in PyTorch checkpoints; the host of LoRA and its kin. */
public final class LinearLayer extends WeightedLayer {

    private final long inFeatures;
    private final long outFeatures;

    public LinearLayer(long inFeatures, long outFeatures, boolean withBias) {
        super(new Shape(outFeatures, inFeatures), Initializers.uniformFanIn(inFeatures), withBias,
                Initializers.uniformFanIn(inFeatures));
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
    }

    @Override
    protected NDArray compute(NDArray x, NDArray weight, NDArray bias) {
        return Linear.linear(x, weight, bias).singletonOrThrow();
    }

    @Override
    public int channelAxis() {
        return -1;
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape in = inputShapes[0];
        return new Shape[] {in.slice(0, in.dimension() - 1).add(outFeatures)};
    }

    public long inFeatures() {
        return inFeatures;
    }

    public long outFeatures() {
        return outFeatures;
    }
}
