package org.peft4j.tuners.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.initializer.Initializer;
import org.peft4j.nn.Hook;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.Initializers;
import org.peft4j.nn.LayerHook;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.MergeableHook;
import org.peft4j.nn.Ops;
import org.peft4j.nn.Svd;
import org.peft4j.nn.WeightDelta;
import org.peft4j.nn.WeightUpdate;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The LoRA family on one linear layer {@code y = x Wᵀ + b}, W {@code [out, in]}: all of its math.
 *
 * <ul>
 * <li><b>LoRA</b> (Hu et al. 2021): {@code y += s·(drop(x) Aᵀ) Bᵀ}, A {@code [r, in]}, B {@code [out, r]},
 *     {@code s = α/r} (rsLoRA: {@code α/√r}); merge {@code W ← W + s·B·A}. On a fused qkv layer
 *     ({@code enable_lora}) B has rows for the enabled slices only and the others get zeros.</li>
 * <li><b>DoRA</b> (Liu et al. 2024), as PEFT computes it: a magnitude {@code m [out]} initialised to the
 *     row norms {@code ‖W + s·B·A‖}; with {@code c = m / ‖W + s·B·A‖} (the norm detached, as the paper
 *     recommends), {@code y = base + (c − 1)·(x Wᵀ) + c·s·(x Aᵀ)Bᵀ}, i.e. {@code W' = c·(W + s·B·A)},
 *     which is also the merge.</li>
 * <li><b>PiSSA</b> (Meng et al. 2024): A, B start as the top-r singular part of W
 *     ({@code s·B·A = U_r S_r V_rᵀ}) and the base must lose that part. PEFT rewrites W; here the frozen
 *     initial factors are subtracted in the forward pass instead, {@code y += s·(B A − B₀ A₀) x},
 *     so the base is never changed and disabling, deleting or switching adapters stays exact. The
 *     file form is PEFT's conversion to a plain LoRA of rank 2r: {@code A' = [A; A₀]}, {@code B' = [B, −B₀]}.</li>
 * </ul>
 */
public final class LoraLayer implements LayerHook, MergeableHook, WeightDelta {

    private final LinearLayer layer;
    private final int rank;
    private final float scale;
    private final float dropout;
    private final boolean[] enabled;
    private final LoraConfig.Init init;
    private final Parameter loraA;
    private final Parameter loraB;
    private final Parameter magnitude;
    /** PiSSA's frozen initial factors. */
    private NDArray initialA;
    private NDArray initialB;
    /** DoRA: the row norms at merge time, which unmerging divides back out. */
    private NDArray mergedNorm;

    LoraLayer(LinearLayer layer, int rank, double scale, double dropout, List<Boolean> enabledSlices,
              LoraConfig.Init init, boolean dora) {
        this.layer = layer;
        this.rank = rank;
        this.scale = (float) scale;
        this.dropout = (float) dropout;
        this.init = init;
        long in = layer.inFeatures();
        long out = layer.outFeatures();
        // Bounded before A and B are allocated (a mistyped --rank grew to 24 GB). Ranks above the layer's
        // size are legal (a concatenation merge adds its adapters' ranks) but not without end.
        long maxRank = 16 * Math.max(in, out);
        if (rank > maxRank) {
            throw new IllegalArgumentException("r=" + rank + " is too large for a targeted layer of " + in + " inputs and "
                    + out + " outputs; at most " + maxRank + " (16 × its larger side)");
        }
        int slices = enabledSlices == null ? 1 : enabledSlices.size();
        if (out % slices != 0) {
            throw new IllegalArgumentException("enable_lora has " + slices + " slices but the layer has "
                    + out + " outputs, not a multiple");
        }
        enabled = new boolean[slices];
        int on = 0;
        for (int i = 0; i < slices; i++) {
            enabled[i] = enabledSlices == null || enabledSlices.get(i);
            on += enabled[i] ? 1 : 0;
        }
        long bRows = out / slices * on;
        if (init == LoraConfig.Init.PISSA && rank > Math.min(bRows, in)) {
            throw new IllegalArgumentException("PiSSA needs r <= min(out, in) = " + Math.min(bRows, in) + ", got r = " + rank);
        }
        Initializer initA = switch (init) {
            case GAUSSIAN -> Initializers.normal((float) (1.0 / rank));
            case KAIMING, RANDOM, PISSA -> Initializers.uniformFanIn(in);
        };
        Initializer initB = init == LoraConfig.Init.RANDOM ? Initializers.uniformFanIn(rank) : Initializers.zeros();
        loraA = Hook.parameter("lora_A.weight", new Shape(rank, in), initA);
        loraB = Hook.parameter("lora_B.weight", new Shape(bRows, rank), initB);
        magnitude = dora ? Hook.parameter("lora_magnitude_vector", new Shape(out), Initializers.ones()) : null;
    }

    @Override
    public Map<String, Parameter> parameters() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        m.put("lora_A.weight", loraA);
        m.put("lora_B.weight", loraB);
        if (magnitude != null) {
            m.put("lora_magnitude_vector", magnitude);
        }
        return m;
    }

    @Override
    public void initialize(NDManager manager) {
        loraA.initialize(manager, DataType.FLOAT32);
        loraB.initialize(manager, DataType.FLOAT32);
        if (init == LoraConfig.Init.PISSA) {
            initPissa(manager);
        }
        if (magnitude != null) {
            magnitude.initialize(manager, DataType.FLOAT32);
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                Initializers.copyInto(magnitude.getArray(), rowNorms().toFloatArray());
            }
        }
    }

    /** Every LoRA-family variant changes the output only (DoRA from the rows' own base output). */
    @Override
    public boolean mixable() {
        return true;
    }

    @Override
    public NDArray adaptOutput(NDArray x, NDArray base, NDArray y, ForwardContext ctx) {
        boolean drop = ctx.training() && dropout > 0;
        NDArray h = drop ? Dropout.dropout(x, dropout, true).singletonOrThrow() : x;
        NDArray lora = delta(h, x);
        if (magnitude == null) {
            return y.add(lora);
        }
        NDArray c = magnitude.getArray().div(rowNorms().stopGradient());
        NDArray bias = layer.bias() == null ? null : layer.bias().getArray();
        // With dropout the plain product must see the dropped input too (PEFT does the same).
        NDArray plain = drop ? Linear.linear(h, layer.weight().getArray()).singletonOrThrow()
                : bias == null ? base : base.sub(bias);
        return y.add(plain.add(lora).mul(c)).sub(plain); // base + (c − 1)·plain + c·lora
    }

    /** {@code s·(h Aᵀ)Bᵀ}, minus PiSSA's initial part on the undropped input {@code x}. */
    private NDArray delta(NDArray h, NDArray x) {
        // Scaling the r-wide bottleneck costs r/out of scaling the output.
        NDArray u = Ops.scale(Linear.linear(h, loraA.getArray()).singletonOrThrow(), scale);
        NDArray d = Linear.linear(u, loraB.getArray()).singletonOrThrow();
        if (initialA != null) {
            NDArray u0 = Ops.scale(Linear.linear(x, initialA).singletonOrThrow(), scale);
            d = d.sub(Linear.linear(u0, initialB).singletonOrThrow());
        }
        return padSlices(d, -1);
    }

    /** The correction as a dense {@code [out, in]} matrix: {@code s·(B·A − B₀·A₀)}. */
    public NDArray deltaWeight() {
        NDArray d = loraB.getArray().matMul(loraA.getArray());
        if (initialA != null) {
            d = d.sub(initialB.matMul(initialA));
        }
        return padSlices(Ops.scale(d, scale), 0);
    }

    /** What merging adds to W: {@code s·B·A} (PiSSA: minus its initial part), DoRA {@code c·(W + s·B·A) − W}. */
    @Override
    public NDArray weightDelta() {
        if (magnitude == null) {
            return deltaWeight();
        }
        NDArray w = layer.weight().getArray();
        NDArray c = magnitude.getArray().div(rowNorms()).reshape(-1, 1);
        return w.add(deltaWeight()).mul(c).sub(w);
    }

    /** {@code ‖W + ΔW‖} over each output row. */
    private NDArray rowNorms() {
        return layer.weight().getArray().add(deltaWeight()).norm(new int[] {1});
    }

    @Override
    public void merge(boolean safe) {
        NDArray w = layer.weight().getArray();
        if (magnitude == null) {
            WeightUpdate.replace(safe, "LoRA", List.of(w), () -> List.of(w.add(deltaWeight())));
            return;
        }
        float[] norms = new float[(int) layer.outFeatures()];
        WeightUpdate.replace(safe, "DoRA", List.of(w), () -> {
            NDArray norm = rowNorms();
            System.arraycopy(norm.toFloatArray(), 0, norms, 0, norms.length);
            return List.of(w.add(deltaWeight()).mul(magnitude.getArray().div(norm).reshape(-1, 1)));
        });
        mergedNorm = w.getManager().create(norms); // kept until unmerge; set only once the merge went through
        NDScope.unregister(mergedNorm);
    }

    @Override
    public void unmerge() {
        NDArray w = layer.weight().getArray();
        if (magnitude == null) {
            WeightUpdate.replace(false, "LoRA", List.of(w), () -> List.of(w.sub(deltaWeight())));
            return;
        }
        WeightUpdate.replace(false, "DoRA", List.of(w), () ->
                List.of(w.div(magnitude.getArray().div(mergedNorm).reshape(-1, 1)).sub(deltaWeight())));
        mergedNorm.close();
        mergedNorm = null;
    }

    @Override
    public Map<String, NDArray> stateToSave() {
        Map<String, NDArray> out = LayerHook.super.stateToSave();
        if (initialA != null) {
            out.put("lora_A.weight", NDArrays.concat(new NDList(loraA.getArray(), initialA), 0));
            out.put("lora_B.weight", NDArrays.concat(new NDList(loraB.getArray(), initialB.neg()), 1));
        }
        return out;
    }

    /**
     * PiSSA: the SVD of W's enabled rows, {@code W = U S Vᵀ}; {@code A = diag(√(S_r/s)) V_rᵀ},
     * {@code B = U_r diag(√(S_r/s))} (PEFT's {@code pissa_init}), in double precision.
     */
    private void initPissa(NDManager manager) {
        long in = layer.inFeatures();
        int bRows = (int) loraB.getShape().get(0);
        float[] w = layer.weight().getArray().toFloatArray();
        long sliceRows = layer.outFeatures() / enabled.length;
        float[] m = new float[(int) (bRows * in)];
        int row = 0;
        for (int s = 0; s < enabled.length; s++) {
            if (!enabled[s]) {
                continue;
            }
            for (long r = 0; r < sliceRows; r++, row++) {
                System.arraycopy(w, (int) ((s * sliceRows + r) * in), m, (int) (row * in), (int) in);
            }
        }
        Svd svd = Svd.top(m, bRows, (int) in, rank);
        float[] a = new float[(int) (rank * in)];
        float[] b = new float[bRows * rank];
        for (int k = 0; k < rank; k++) {
            double root = Math.sqrt(svd.s()[k] / scale);
            for (int j = 0; j < in; j++) {
                a[(int) (k * in + j)] = (float) (root * svd.vt()[(int) (k * in + j)]);
            }
            for (int i = 0; i < bRows; i++) {
                b[i * rank + k] = (float) (svd.u()[i * rank + k] * root);
            }
        }
        Initializers.copyInto(loraA.getArray(), a);
        Initializers.copyInto(loraB.getArray(), b);
        initialA = manager.create(a, loraA.getShape());
        initialB = manager.create(b, loraB.getShape());
        NDScope.unregister(initialA, initialB); // live as long as the adapter
    }

    /** Puts zeros where a fused layer's slice is disabled, along {@code axis} (−1: outputs, 0: weight rows). */
    private NDArray padSlices(NDArray d, int axis) {
        if (enabled.length == 1) {
            return d;
        }
        int ax = axis < 0 ? d.getShape().dimension() + axis : axis;
        long slice = layer.outFeatures() / enabled.length;
        NDList parts = new NDList();
        long next = 0;
        for (boolean on : enabled) {
            if (on) {
                String range = next + ":" + (next + slice);
                parts.add(d.get(ax == 0 ? range : "..., " + range));
                next += slice;
            } else {
                long[] dims = d.getShape().getShape().clone();
                dims[ax] = slice;
                parts.add(d.getManager().zeros(new Shape(dims), d.getDataType()));
            }
        }
        return NDArrays.concat(parts, ax);
    }

    public int rank() {
        return rank;
    }

    public float scale() {
        return scale;
    }
}
