package org.peft4j.tuners.bitfit;

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

import java.util.List;
import java.util.Map;

/**
 * BitFit on one layer: {@code y ← y + Δb}, Δb {@code [C]} from zero. Training Δb is training the
 * bias (same gradient), but the base stays untouched, so several adapters, disabling and deleting
 * work as for any tuner, and merging is {@code b ← b + Δb}. The file holds Δb ({@code bias_delta}).
 */
public final class BiasDelta implements LayerHook, MergeableHook {

    private final WeightedLayer layer;
    private final Parameter delta;

    BiasDelta(WeightedLayer layer) {
        this.layer = layer;
        delta = Hook.parameter("bias_delta", new Shape(layer.outChannels()), Initializers.zeros());
    }

    @Override
    public Map<String, Parameter> parameters() {
        return Map.of("bias_delta", delta);
    }

    @Override
    public NDArray adaptOutput(NDArray x, NDArray base, NDArray y, ForwardContext ctx) {
        return y.add(layer.alongOutputChannels(delta.getArray()));
    }

    @Override
    public void merge(boolean safe) {
        NDArray b = layer.bias().getArray();
        WeightUpdate.replace(safe, "BitFit", List.of(b), () -> List.of(b.add(delta.getArray())));
    }

    @Override
    public void unmerge() {
        NDArray b = layer.bias().getArray();
        WeightUpdate.replace(false, "BitFit", List.of(b), () -> List.of(b.sub(delta.getArray())));
    }
}
