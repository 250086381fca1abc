package org.peft4j.tuners.ia3;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import org.peft4j.nn.Hook;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.Initializers;
import org.peft4j.nn.LayerHook;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.MergeableHook;
import org.peft4j.nn.WeightUpdate;

import java.util.List;
import java.util.Map;

/**
 * (IA)³ on one linear layer, as PEFT's {@code IA3Layer}: a vector {@code ia3_l}. On an ordinary
 * target it has shape {@code [out, 1]} and scales the output, bias included: {@code y ← (x Wᵀ + b) ⊙ l};
 * merge {@code W ← diag(l) W}, {@code b ← l ⊙ b}. On a feed-forward target it has shape {@code [1, in]}
 * and scales the input: {@code y = (x ⊙ l) Wᵀ + b}; merge {@code W ← W diag(l)}. Unmerging divides
 * by {@code l + 1e-8}, as PEFT.
 */
public final class Ia3Layer implements LayerHook, MergeableHook {

    private static final float UNMERGE_EPS = 1e-8f;

    private final LinearLayer layer;
    private final boolean feedforward;
    private final Parameter vector;

    Ia3Layer(LinearLayer layer, boolean feedforward, boolean initToOne) {
        this.layer = layer;
        this.feedforward = feedforward;
        Shape shape = feedforward ? new Shape(1, layer.inFeatures()) : new Shape(layer.outFeatures(), 1);
        vector = Hook.parameter("ia3_l", shape, initToOne ? Initializers.ones() : Initializers.normal(1f));
    }

    @Override
    public Map<String, Parameter> parameters() {
        return Map.of("ia3_l", vector);
    }

    @Override
    public NDArray adaptInput(NDArray x, ForwardContext ctx) {
        return feedforward ? x.mul(vector.getArray().reshape(-1)) : x;
    }

    @Override
    public NDArray adaptOutput(NDArray x, NDArray base, NDArray y, ForwardContext ctx) {
        return feedforward ? y : y.mul(vector.getArray().reshape(-1));
    }

    @Override
    public void merge(boolean safe) {
        NDArray w = layer.weight().getArray();
        NDArray l = vector.getArray();
        if (feedforward || layer.bias() == null) {
            WeightUpdate.replace(safe, "IA3", List.of(w), () -> List.of(w.mul(l)));
        } else {
            NDArray b = layer.bias().getArray();
            WeightUpdate.replace(safe, "IA3", List.of(w, b), () -> List.of(w.mul(l), b.mul(l.reshape(-1))));
        }
    }

    @Override
    public void unmerge() {
        NDArray w = layer.weight().getArray();
        NDArray l = vector.getArray();
        if (feedforward || layer.bias() == null) {
            WeightUpdate.replace(false, "IA3", List.of(w), () -> List.of(w.div(l.add(UNMERGE_EPS))));
        } else {
            NDArray b = layer.bias().getArray();
            WeightUpdate.replace(false, "IA3", List.of(w, b),
                    () -> List.of(w.div(l.add(UNMERGE_EPS)), b.div(l.reshape(-1).add(UNMERGE_EPS))));
        }
    }

    public boolean feedforward() {
        return feedforward;
    }
}
