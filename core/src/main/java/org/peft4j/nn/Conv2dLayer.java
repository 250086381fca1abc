package org.peft4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;

/**
 * A 2-D convolution with zero padding, weight {@code [out, in, k, k]}: a ViT's patch embedding when
 * stride = k, SAM's neck (1x1 and 3x3 with padding 1).
 */
public final class Conv2dLayer extends WeightedLayer {

    private final Shape stride;
    private final Shape padding;
    private final long outChannels;

    public Conv2dLayer(long inChannels, long outChannels, int kernel, int stride, boolean withBias) {
        this(inChannels, outChannels, kernel, stride, 0, withBias);
    }

    public Conv2dLayer(long inChannels, long outChannels, int kernel, int stride, int padding, boolean withBias) {
        super(new Shape(outChannels, inChannels, kernel, kernel), Initializers.uniformFanIn(inChannels * kernel * kernel),
                withBias, Initializers.uniformFanIn(inChannels * kernel * kernel));
        this.stride = new Shape(stride, stride);
        this.padding = new Shape(padding, padding);
        this.outChannels = outChannels;
    }

    @Override
    protected NDArray compute(NDArray x, NDArray weight, NDArray bias) {
        return Conv2d.conv2d(x, weight, bias, stride, padding).singletonOrThrow();
    }

    @Override
    public int channelAxis() {
        return 1;
    }

    /** Inputs per output value: {@code in × k × k}. */
    public long fanIn() {
        Shape w = weight().getShape();
        return w.get(1) * w.get(2) * w.get(3);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape in = inputShapes[0];
        long k = weight().getShape().get(2);
        return new Shape[] {new Shape(in.get(0), outChannels, (in.get(2) + 2 * padding.get(0) - k) / stride.get(0) + 1,
                (in.get(3) + 2 * padding.get(1) - k) / stride.get(1) + 1)};
    }
}
