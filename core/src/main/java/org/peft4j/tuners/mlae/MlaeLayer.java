package org.peft4j.tuners.mlae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import org.peft4j.nn.Hook;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.Initializers;
import org.peft4j.nn.LayerHook;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.MergeableHook;
import org.peft4j.nn.Ops;
import org.peft4j.nn.WeightDelta;
import org.peft4j.nn.WeightUpdate;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * MLAE on one linear layer, all of its math. r rank-1 experts {@code λᵢ bᵢ aᵢᵀ}: A {@code [r, in]}
 * kaiming-uniform, B {@code [out, r]} zeros (PEFT's orientation; the authors store Bᵀ), λ {@code [r]}
 * initialised to α.
 *
 * <pre>
 *   u = drop(x) Aᵀ                     [.., r]
 *   m̃ = λ ⊙ mask / (1 − p)              one Bernoulli(1 − p) mask of length r per forward call,
 *                                       shared by the whole batch (training only; λ in eval)
 *   y = x W₀ᵀ + b₀ + (u ⊙ m̃) Bᵀ
 *   merge: W ← W₀ + B diag(λ) A
 * </pre>
 * Fixed masking multiplies λ by a constant 0/1 keep vector in training, inference and merging.
 */
public final class MlaeLayer implements LayerHook, MergeableHook, WeightDelta {

    private final LinearLayer layer;
    private final int rank;
    private final float dropRate;
    private final float inputDropout;
    private final float[] keep;
    private final Parameter loraA;
    private final Parameter loraB;
    private final Parameter lambda;

    MlaeLayer(LinearLayer layer, MlaeConfig config, double dropRate) {
        this.layer = layer;
        this.rank = config.r();
        this.dropRate = (float) dropRate;
        this.inputDropout = (float) config.loraDropout();
        if (config.fixedExperts().isEmpty()) {
            keep = null;
        } else {
            keep = new float[rank];
            java.util.Arrays.fill(keep, 1f);
            config.fixedExperts().forEach(e -> keep[e] = 0f);
        }
        loraA = Hook.parameter("lora_A.weight", new Shape(rank, layer.inFeatures()), Initializers.uniformFanIn(layer.inFeatures()));
        loraB = Hook.parameter("lora_B.weight", new Shape(layer.outFeatures(), rank), Initializers.zeros());
        lambda = Hook.parameter("mlae_lambda", new Shape(rank), Initializers.constant((float) config.loraAlpha()));
    }

    @Override
    public Map<String, Parameter> parameters() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        m.put("lora_A.weight", loraA);
        m.put("lora_B.weight", loraB);
        m.put("mlae_lambda", lambda);
        return m;
    }

    @Override
    public NDArray adaptOutput(NDArray x, NDArray base, NDArray y, ForwardContext ctx) {
        boolean training = ctx.training();
        NDArray h = training && inputDropout > 0 ? Dropout.dropout(x, inputDropout, true).singletonOrThrow() : x;
        NDArray u = Linear.linear(h, loraA.getArray()).singletonOrThrow();
        return y.add(Linear.linear(u.mul(coefficients(x.getManager(), training)), loraB.getArray()).singletonOrThrow());
    }

    /** m̃: λ with this call's expert mask (training) or λ itself (eval), times the fixed keep vector. */
    NDArray coefficients(NDManager manager, boolean training) {
        NDArray c = lambda.getArray();
        if (training && dropRate > 0) {
            // DJL's engine has no bernoulli: a uniform draw below 1 − p keeps the expert (DJL-NOTES).
            NDArray mask = manager.randomUniform(0f, 1f, new Shape(rank)).gte(dropRate).toType(DataType.FLOAT32, false);
            c = c.mul(Ops.scale(mask, 1f / (1f - dropRate)));
        }
        if (keep != null) {
            c = c.mul(Ops.owned(manager.create(keep)));
        }
        return c;
    }

    /** {@code B diag(λ ⊙ keep) A}, the merged form of the eval output. */
    public NDArray deltaWeight() {
        NDArray c = lambda.getArray();
        if (keep != null) {
            c = c.mul(c.getManager().create(keep));
        }
        return loraB.getArray().mul(c).matMul(loraA.getArray());
    }

    @Override
    public NDArray weightDelta() {
        return deltaWeight();
    }

    @Override
    public void merge(boolean safe) {
        NDArray w = layer.weight().getArray();
        WeightUpdate.replace(safe, "MLAE", List.of(w), () -> List.of(w.add(deltaWeight())));
    }

    @Override
    public void unmerge() {
        NDArray w = layer.weight().getArray();
        WeightUpdate.replace(false, "MLAE", List.of(w), () -> List.of(w.sub(deltaWeight())));
    }

    /** The stochastic rate this layer got from the schedule. */
    public float dropRate() {
        return dropRate;
    }
}
