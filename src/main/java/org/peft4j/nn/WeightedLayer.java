package org.peft4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.initializer.Initializer;

import java.util.List;

/**
 * A layer with a weight whose first axis is the output channel and an optional per-channel bias
 * (linear, layer norm, convolution), and a {@link HookSlot} of {@link LayerHook}s. Like a Hugging
 * Face PEFT layer, the base weights stay put: active, unmerged hooks adapt the input and output;
 * merging folds a hook into the weights.
 */
public abstract class WeightedLayer extends Module {

    private final Parameter weight;
    private final Parameter bias;
    private final HookSlot<LayerHook> hooks = new HookSlot<>();

    protected WeightedLayer(Shape weightShape, Initializer weightInit, boolean withBias, Initializer biasInit) {
        weight = addParam("weight", weightShape, weightInit);
        bias = withBias ? addParam("bias", new Shape(weightShape.get(0)), biasInit) : null;
    }

    /** The layer's own computation on {@code x} with the given weight and bias (bias may be null). */
    protected abstract NDArray compute(NDArray x, NDArray weight, NDArray bias);

    /** The output axis that holds the channels: −1 when they come last, 1 for NCHW maps. */
    public abstract int channelAxis();

    @Override
    public final NDArray forward(NDArray x, ForwardContext ctx) {
        List<LayerHook> run = hooks.running();
        NDArray b = bias == null ? null : value(bias);
        if (run.isEmpty()) {
            return compute(x, value(weight), b);
        }
        NDArray in = x;
        for (LayerHook h : run) {
            in = h.adaptInput(in, ctx);
        }
        NDArray base = compute(in, value(weight), b);
        NDArray y = base;
        for (LayerHook h : run) {
            y = h.adaptOutput(x, base, y, ctx);
        }
        return y;
    }

    /** The layer without its hooks: {@code compute(x, W, b)} with the current (possibly merged) weights. */
    public NDArray baseForward(NDArray x) {
        return compute(x, value(weight), bias == null ? null : value(bias));
    }

    public Parameter weight() {
        return weight;
    }

    /** The bias parameter, or null when the layer has none. */
    public Parameter bias() {
        return bias;
    }

    public long outChannels() {
        return weight.getShape().get(0);
    }

    /** A per-channel vector {@code [C]} shaped to broadcast against this layer's outputs. */
    public NDArray alongOutputChannels(NDArray v) {
        return channelAxis() == -1 ? v : v.reshape(new Shape(v.size()).addAll(new Shape(1, 1)));
    }

    /** A per-channel vector {@code [C]} shaped to broadcast against the weight (channels on its first axis). */
    public NDArray alongWeightRows(NDArray v) {
        long[] dims = new long[weight.getShape().dimension()];
        java.util.Arrays.fill(dims, 1);
        dims[0] = v.size();
        return v.reshape(new Shape(dims));
    }

    public HookSlot<LayerHook> hooks() {
        return hooks;
    }
}
