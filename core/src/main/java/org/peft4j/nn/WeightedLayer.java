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
        AdapterRows mixed = ctx.get(AdapterRows.KEY);
        if (mixed != null && !hooks.hooks().isEmpty()) {
            return mixedForward(x, mixed, ctx);
        }
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

    /**
     * A mixed batch: one base computation for every row, then each adapter's hook on its own rows
     * (the rows of {@link AdapterRows#BASE} keep the base output). Only hooks that change the output
     * alone can mix (the LoRA family); a hook that adapts the input (IA³) or a merged adapter cannot.
     */
    private NDArray mixedForward(NDArray x, AdapterRows mixed, ForwardContext ctx) {
        if (!hooks.merged().isEmpty()) {
            throw new IllegalStateException("a mixed-adapter batch needs unmerged adapters; merged here: " + hooks.merged());
        }
        NDArray base = compute(x, value(weight), bias == null ? null : value(bias));
        List<NDArray> parts = new java.util.ArrayList<>();
        for (java.util.Map.Entry<String, long[]> e : mixed.segments().entrySet()) {
            NDArray baseRows = mixed.rows(base, e.getValue());
            LayerHook h = e.getKey().equals(AdapterRows.BASE) ? null : hooks.get(e.getKey());
            if (h == null) {
                parts.add(baseRows); // no adapter, or this adapter has no hook on this layer
                continue;
            }
            if (!h.mixable()) {
                throw new IllegalStateException(h.getClass().getSimpleName() + " cannot run in a mixed-adapter batch");
            }
            NDArray xRows = mixed.rows(x, e.getValue());
            parts.add(h.adaptOutput(xRows, baseRows, baseRows, ctx));
        }
        return mixed.assemble(parts, x.getManager());
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
