package org.peft4j.tuners.ssf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import org.peft4j.nn.Hook;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.Initializers;
import org.peft4j.nn.LayerHook;
import org.peft4j.nn.MergeableHook;
import org.peft4j.nn.WeightUpdate;
import org.peft4j.nn.WeightedLayer;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * SSF on one layer: {@code y ← γ ⊙ y + β} per output channel, γ, β {@code [C]}. The layer is affine
 * in its weight and bias along the channels, so it merges: {@code W ← γ·W} (row-wise),
 * {@code b ← γ⊙b + β}; a layer without a bias has nowhere to put β and cannot be merged.
 */
public final class SsfLayer implements LayerHook, MergeableHook {

    private final WeightedLayer layer;
    private final Parameter scale;
    private final Parameter shift;

    SsfLayer(WeightedLayer layer, double initStd) {
        this.layer = layer;
        Shape c = new Shape(layer.outChannels());
        scale = Hook.parameter("ssf_scale", c, (m, s, t) -> m.randomNormal(1f, (float) initStd, s, t));
        shift = Hook.parameter("ssf_shift", c, Initializers.normal((float) initStd));
    }

    @Override
    public Map<String, Parameter> parameters() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        m.put("ssf_scale", scale);
        m.put("ssf_shift", shift);
        return m;
    }

    @Override
    public NDArray adaptOutput(NDArray x, NDArray base, NDArray y, ForwardContext ctx) {
        return y.mul(layer.alongOutputChannels(scale.getArray())).add(layer.alongOutputChannels(shift.getArray()));
    }

    @Override
    public String mergeBlocker() {
        return layer.bias() == null ? "the layer has no bias to take SSF's shift" : null;
    }

    @Override
    public void merge(boolean safe) {
        NDArray w = layer.weight().getArray();
        NDArray b = layer.bias().getArray();
        NDArray g = scale.getArray();
        WeightUpdate.replace(safe, "SSF", List.of(w, b), () ->
                List.of(w.mul(layer.alongWeightRows(g)), b.mul(g).add(shift.getArray())));
    }

    @Override
    public void unmerge() {
        NDArray w = layer.weight().getArray();
        NDArray b = layer.bias().getArray();
        NDArray g = scale.getArray();
        WeightUpdate.replace(false, "SSF", List.of(w, b), () ->
                List.of(w.div(layer.alongWeightRows(g)), b.sub(shift.getArray()).div(g)));
    }
}
