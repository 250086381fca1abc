package org.peft4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code y = x Wᵀ + b} (W is {@code [out, in]}, as in PyTorch checkpoints) plus any number of
 * named {@link LinearAdapter}s. Like a Hugging Face PEFT LoRA layer, the base weight stays put
 * and the active, unmerged adapters add their outputs; merging folds an adapter into W.
 */
public final class LinearLayer extends Module {

    private final long inFeatures;
    private final long outFeatures;
    private final Parameter weight;
    private final Parameter bias;

    private final Map<String, LinearAdapter> adapters = new LinkedHashMap<>();
    private final Set<String> active = new LinkedHashSet<>();
    private final List<String> merged = new ArrayList<>();

    public LinearLayer(long inFeatures, long outFeatures, boolean withBias) {
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        weight = addParam("weight", new Shape(outFeatures, inFeatures), Initializers.uniformFanIn(inFeatures));
        bias = withBias ? addParam("bias", new Shape(outFeatures), Initializers.uniformFanIn(inFeatures)) : null;
    }

    @Override
    public NDArray forward(NDArray x, boolean training) {
        NDArray y = Linear.linear(x, value(weight), bias == null ? null : value(bias)).singletonOrThrow();
        for (String name : active) {
            if (!merged.contains(name)) {
                y = y.add(adapters.get(name).delta(x, training));
            }
        }
        return y;
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

    public Parameter weight() {
        return weight;
    }

    /** The bias parameter, or null when the layer has none. */
    public Parameter bias() {
        return bias;
    }

    public void addAdapter(String name, LinearAdapter adapter) {
        if (adapters.containsKey(name)) {
            throw new IllegalArgumentException("adapter '" + name + "' already exists on this layer");
        }
        adapters.put(name, adapter);
    }

    public void removeAdapter(String name) {
        if (merged.contains(name)) {
            throw new IllegalStateException("adapter '" + name + "' is merged; unmerge it before deleting");
        }
        adapters.remove(name);
        active.remove(name);
    }

    public Map<String, LinearAdapter> adapters() {
        return Map.copyOf(adapters);
    }

    /** Which adapters take part in forward passes (several at once add up, as in PEFT). */
    public void setActive(List<String> names) {
        active.clear();
        for (String n : names) {
            if (adapters.containsKey(n)) {
                active.add(n);
            }
        }
    }

    public List<String> merged() {
        return List.copyOf(merged);
    }

    /**
     * {@code W ← W + ΔW}. With {@code safe}, the sum is checked for NaN/Inf before W is touched.
     */
    public void merge(String name, boolean safe) {
        LinearAdapter adapter = requireAdapter(name);
        if (merged.contains(name)) {
            return;
        }
        NDArray w = weight.getArray();
        try (NDScope scope = new NDScope()) { // frees the temporaries, which attach to W's manager
            scope.suppressNotUsedWarning();
            NDArray delta = adapter.deltaWeight();
            if (safe) {
                NDArray sum = w.add(delta);
                if (sum.isInfinite().logicalOr(sum.isNaN()).any().getBoolean()) {
                    throw new IllegalStateException(
                            "merging adapter '" + name + "' would put NaN or Inf into the weights; nothing was changed");
                }
            }
            w.addi(delta);
        }
        merged.add(name);
    }

    /** Keeps a merged adapter's effect in W but lets it be removed (merge_and_unload). */
    public void forgetMerged(String name) {
        merged.remove(name);
    }

    /** {@code W ← W − ΔW} for every merged adapter, newest first. */
    public void unmergeAll() {
        NDArray w = weight.getArray();
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            for (int i = merged.size() - 1; i >= 0; i--) {
                w.subi(adapters.get(merged.get(i)).deltaWeight());
            }
        }
        merged.clear();
    }

    private LinearAdapter requireAdapter(String name) {
        LinearAdapter a = adapters.get(name);
        if (a == null) {
            throw new IllegalArgumentException("no adapter '" + name + "' on this layer; it has " + adapters.keySet());
        }
        return a;
    }
}
