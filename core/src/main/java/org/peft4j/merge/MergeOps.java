package org.peft4j.merge;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.peft4j.nn.Svd;

import java.util.List;
import java.util.SplittableRandom;

/**
 * The tensor operations of model merging, as pure functions: each takes task tensors (adapter
 * factors or weight deltas) of one shape and returns a new tensor; nothing is changed in place.
 *
 * <p>Two families, named apart because their semantics differ:
 * <ul>
 * <li><b>PEFT's</b> ({@code peft/utils/merge_utils.py}, read at commit
 *     {@code 5d602fdbff04c33c1c4de55cda9d4ae1d7cb7e40}, 0.20.1.dev0): {@link #taskArithmetic},
 *     {@link #magnitudePrune}, {@link #ties}, {@link #dareLinear}, {@link #dareTies}. TopK keeps the
 *     {@code ⌊ρ·n⌋} largest magnitudes of the whole tensor; DARE keeps Bernoulli(ρ) entries and divides
 *     by ρ; the sign is elected on the <i>unweighted</i> pruned tensors ({@code sgn⁺(Σ τ̂ᵢ)} for "total",
 *     {@code sgn⁺(Σ sgn τ̂ᵢ)} for "frequency", {@code sgn⁺(0) = +1}), and TIES averages the weighted
 *     agreeing entries by their <i>count</i>: {@code Σ wᵢ τ̂ᵢ Mᵢ / max(1, Σ Mᵢ)}.</li>
 * <li><b>mergekit's</b> (full-weight merging, here on ΔW): {@link #tiesMerging} elects the sign on the
 *     <i>weighted</i> deltas and divides by the <i>sum of the agreeing weights</i>; {@link #dareMerging}
 *     rescales the kept entries so each delta keeps its L1 norm; {@link #emr} is EMR-merging.</li>
 * </ul>
 * DARE's random masks come from a {@link SplittableRandom} seeded by the caller, so a merge is
 * reproducible here; they cannot equal PyTorch's {@code torch.bernoulli} draws bit for bit.
 */
public final class MergeOps {

    private MergeOps() {}

    /** How TIES elects the sign of each entry. */
    public enum SignMethod {
        /** The sign of the sum of the values. */
        TOTAL("total"),
        /** The sign of the sum of the signs (a majority vote). */
        FREQUENCY("frequency");

        public final String json;

        SignMethod(String json) {
            this.json = json;
        }

        public static SignMethod parse(String s) {
            for (SignMethod m : values()) {
                if (m.json.equals(s)) {
                    return m;
                }
            }
            throw new IllegalArgumentException("majority sign method must be total or frequency, got '" + s + "'");
        }
    }

    // ---- PEFT's primitives ----

    /** Keeps the {@code ⌊density·n⌋} entries of largest magnitude over the whole tensor, zeros the rest. */
    public static NDArray magnitudePruned(NDArray t, double density) {
        if (density >= 1) {
            return t.duplicate();
        }
        long n = t.size();
        long k = (long) (density * n); // Python's int(density * numel): truncation
        if (k <= 0) {
            return t.zerosLike();
        }
        long[] kept = t.reshape(-1).abs().topK((int) k, 0, true, false).get(1).toLongArray(); // the k largest |t|
        float[] mask = new float[(int) n];
        for (long i : kept) {
            mask[(int) i] = 1f;
        }
        return t.mul(t.getManager().create(mask, t.getShape()).toType(t.getDataType(), false));
    }

    /**
     * Keeps each entry with probability {@code density} (a draw from {@code seed}); with {@code rescale}
     * the kept entries are divided by {@code density}, so the expected value is unchanged.
     */
    public static NDArray randomPruned(NDArray t, double density, boolean rescale, long seed) {
        if (density >= 1) {
            return t.duplicate();
        }
        NDArray mask = t.getManager().create(bernoulli(t.size(), density, seed), t.getShape());
        NDArray kept = t.mul(mask);
        return rescale ? kept.div((float) density) : kept;
    }

    /** {@code n} draws of Bernoulli(p) as 0/1 floats. */
    static float[] bernoulli(long n, double p, long seed) {
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("tensor of " + n + " entries is too large to mask");
        }
        SplittableRandom rng = new SplittableRandom(seed);
        float[] mask = new float[(int) n];
        for (int i = 0; i < mask.length; i++) {
            mask[i] = rng.nextDouble() < p ? 1f : 0f;
        }
        return mask;
    }

    /** PEFT's {@code calculate_majority_sign_mask} on tensors stacked along axis 0: 1 where an entry has the elected sign. */
    public static NDArray majoritySignMask(NDArray stacked, SignMethod method) {
        NDArray sign = stacked.sign();
        NDArray magnitude = method == SignMethod.TOTAL ? stacked.sum(new int[] {0}) : sign.sum(new int[] {0});
        NDArray elected = magnitude.gte(0f).toType(stacked.getDataType(), false).mul(2f).sub(1f); // sgn⁺
        return sign.eq(elected.expandDims(0)).toType(stacked.getDataType(), false);
    }

    /** PEFT's {@code disjoint_merge}: the masked sum divided by how many tensors each entry kept (at least 1). */
    public static NDArray disjointMerge(NDArray stacked, NDArray mask) {
        NDArray sum = stacked.mul(mask).sum(new int[] {0});
        return sum.div(mask.sum(new int[] {0}).maximum(1f));
    }

    // ---- PEFT's combination functions ----

    /** {@code Σ wᵢ τᵢ}. */
    public static NDArray taskArithmetic(List<NDArray> tensors, float[] weights) {
        return weighted(stack(tensors, weights.length), weights).sum(new int[] {0});
    }

    /** Each tensor magnitude-pruned, then {@code Σ wᵢ τ̂ᵢ}. */
    public static NDArray magnitudePrune(List<NDArray> tensors, float[] weights, double density) {
        NDList pruned = new NDList();
        tensors.forEach(t -> pruned.add(magnitudePruned(t, checkDensity(density))));
        return taskArithmetic(pruned, weights);
    }

    /** TIES as PEFT has it: magnitude-prune each, elect signs on the unweighted pruned tensors, count-averaged disjoint merge. */
    public static NDArray ties(List<NDArray> tensors, float[] weights, double density, SignMethod method) {
        NDList pruned = new NDList();
        tensors.forEach(t -> pruned.add(magnitudePruned(t, checkDensity(density))));
        NDArray stacked = stack(pruned, weights.length);
        return disjointMerge(weighted(stacked, weights), majoritySignMask(stacked, method));
    }

    /** DARE then task arithmetic: each tensor randomly pruned and rescaled by 1/ρ, then {@code Σ wᵢ τ̃ᵢ}. */
    public static NDArray dareLinear(List<NDArray> tensors, float[] weights, double density, long seed) {
        return taskArithmetic(darePruned(tensors, density, seed), weights);
    }

    /** DARE then TIES' sign election and disjoint merge (PEFT's {@code dare_ties}). */
    public static NDArray dareTies(List<NDArray> tensors, float[] weights, double density, SignMethod method,
                                   long seed) {
        NDArray stacked = stack(darePruned(tensors, density, seed), weights.length);
        return disjointMerge(weighted(stacked, weights), majoritySignMask(stacked, method));
    }

    private static List<NDArray> darePruned(List<NDArray> tensors, double density, long seed) {
        checkDensity(density);
        NDList pruned = new NDList();
        for (int i = 0; i < tensors.size(); i++) {
            pruned.add(randomPruned(tensors.get(i), density, true, mix(seed, i)));
        }
        return pruned;
    }

    // ---- mergekit's semantics, on weight deltas ----

    /**
     * TIES-merging as mergekit computes it: trim each delta to its top {@code density} by magnitude,
     * elect each entry's sign on the weighted deltas ({@code sgn⁺ Σ wᵢτ̂ᵢ}, or the weighted vote
     * {@code Σ wᵢ sgn τ̂ᵢ} for "frequency"), and take the weighted mean of the agreeing entries,
     * {@code Σ wᵢ τ̂ᵢ Mᵢ / Σ wᵢ Mᵢ} (0 where none agrees).
     */
    public static NDArray tiesMerging(List<NDArray> deltas, float[] weights, double density, SignMethod method) {
        NDList trimmed = new NDList();
        deltas.forEach(t -> trimmed.add(magnitudePruned(t, checkDensity(density))));
        return weightedDisjointMean(stack(trimmed, weights.length), weights, method);
    }

    /**
     * DARE as mergekit computes it: each delta keeps Bernoulli(ρ) entries, rescaled so its L1 norm is
     * unchanged; then {@code Σ wᵢ τ̃ᵢ}, or with {@code ties} the weighted sign election and mean of
     * {@link #tiesMerging}.
     */
    public static NDArray dareMerging(List<NDArray> deltas, float[] weights, double density, boolean ties,
                                      SignMethod method, long seed) {
        checkDensity(density);
        NDList dropped = new NDList();
        for (int i = 0; i < deltas.size(); i++) {
            NDArray t = deltas.get(i);
            NDArray kept = randomPruned(t, density, false, mix(seed, i));
            float before = t.abs().sum().getFloat();
            float after = kept.abs().sum().getFloat();
            dropped.add(after > 0 ? kept.mul(before / after) : kept);
        }
        NDArray stacked = stack(dropped, weights.length);
        return ties ? weightedDisjointMean(stacked, weights, method) : weighted(stacked, weights).sum(new int[] {0});
    }

    private static NDArray weightedDisjointMean(NDArray stacked, float[] weights, SignMethod method) {
        NDArray weightedDeltas = weighted(stacked, weights);
        NDArray votes = method == SignMethod.TOTAL ? weightedDeltas : weighted(stacked.sign(), weights);
        NDArray elected = votes.sum(new int[] {0}).gte(0f).toType(stacked.getDataType(), false).mul(2f).sub(1f);
        NDArray mask = stacked.sign().eq(elected.expandDims(0)).toType(stacked.getDataType(), false);
        NDArray agreeing = weighted(mask, weights).sum(new int[] {0});
        NDArray sum = weightedDeltas.mul(mask).sum(new int[] {0});
        NDArray nonzero = agreeing.abs().gt(1e-12f);
        return NDArrays.where(nonzero, sum.div(NDArrays.where(nonzero, agreeing, agreeing.onesLike())), sum.zerosLike());
    }

    /**
     * EMR-merging (Huang et al. 2024), for task vectors τᵢ: a unified vector with the elected sign
     * {@code γ = sgn⁺ Σ τᵢ} and, per entry, the largest magnitude among the tasks agreeing with it;
     * per task a mask {@code Mᵢ = [τᵢ·γ > 0]} and a rescaler {@code λᵢ = Σ|τᵢ| / Σ|Mᵢ ⊙ τ_uni|}. Task i
     * then runs with {@code λᵢ · Mᵢ ⊙ τ_uni}. Tuning-free: no data needed.
     */
    public static Emr emr(List<NDArray> deltas) {
        NDArray stacked = stack(deltas, deltas.size());
        NDArray elected = stacked.sum(new int[] {0}).gte(0f).toType(stacked.getDataType(), false).mul(2f).sub(1f);
        NDArray agree = stacked.mul(elected.expandDims(0)).gt(0f).toType(stacked.getDataType(), false);
        NDArray unified = stacked.abs().mul(agree).max(new int[] {0}).mul(elected);
        NDList masks = new NDList();
        float[] taskL1 = new float[deltas.size()];
        float[] keptL1 = new float[deltas.size()];
        for (int i = 0; i < deltas.size(); i++) {
            NDArray mask = agree.get(i);
            masks.add(mask);
            taskL1[i] = deltas.get(i).abs().sum().getFloat();
            keptL1[i] = unified.mul(mask).abs().sum().getFloat();
        }
        return new Emr(unified, masks, taskL1, keptL1);
    }

    /**
     * EMR's unified delta, one 0/1 mask per task (same shape), and per task {@code Σ|τᵢ|} and
     * {@code Σ|Mᵢ ⊙ τ_uni|}, whose ratio is its rescaler; over a whole model, sum both over layers first.
     */
    public record Emr(NDArray unified, List<NDArray> masks, float[] taskL1, float[] keptL1) {
        public float rescaler(int i) {
            return keptL1[i] > 0 ? taskL1[i] / keptL1[i] : 0f;
        }

        /** Task i's delta, {@code λᵢ · Mᵢ ⊙ τ_uni}. */
        public NDArray taskDelta(int i) {
            return unified.mul(masks.get(i)).mul(rescaler(i));
        }
    }

    // ---- low-rank factorisation ----

    /** A delta as LoRA factors, {@code ΔW ≈ B·A}: A {@code [r, in]}, B {@code [out, r]}. */
    public record Factors(NDArray a, NDArray b) {}

    /**
     * The top-{@code rank} part of {@code delta [out, in]} as PEFT's svd merge writes it:
     * {@code U S Vᵀ = svd(ΔW)}, {@code B = U_r diag(S_r)}, {@code A = V_rᵀ}; with {@code clamp} (a
     * quantile in [0, 1]) both are clamped to ±{@code quantile(cat(B, A), clamp)}, as PEFT does.
     */
    public static Factors truncatedSvd(NDArray delta, int rank, Double clamp) {
        Shape s = delta.getShape();
        if (s.dimension() != 2) {
            throw new IllegalArgumentException("truncated SVD needs a matrix, got shape " + s);
        }
        int out = (int) s.get(0);
        int in = (int) s.get(1);
        if (rank <= 0 || rank > Math.min(out, in)) {
            throw new IllegalArgumentException("SVD rank must be in [1, " + Math.min(out, in) + "] for a " + out + "x"
                    + in + " weight, got " + rank);
        }
        Svd svd = Svd.top(delta.toFloatArray(), out, in, rank);
        NDManager m = delta.getManager();
        NDArray b = m.create(svd.scaledU(), new Shape(out, rank));
        NDArray a = m.create(svd.vtFloats(), new Shape(rank, in));
        if (clamp != null) {
            float hi = (float) quantile(NDArrays.concat(new NDList(b.reshape(-1), a.reshape(-1))), clamp);
            b = b.clip(-hi, hi);
            a = a.clip(-hi, hi);
        }
        return new Factors(a, b);
    }

    /** {@code torch.quantile(x, q)} with its default linear interpolation between the two nearest ranks. */
    public static double quantile(NDArray x, double q) {
        if (q < 0 || q > 1) {
            throw new IllegalArgumentException("quantile must be in [0, 1], got " + q);
        }
        float[] v = x.reshape(-1).sort().toFloatArray();
        double pos = q * (v.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = (int) Math.ceil(pos);
        return v[lo] + (v[hi] - v[lo]) * (pos - lo);
    }

    // ---- helpers ----

    private static NDArray stack(List<NDArray> tensors, int expected) {
        if (tensors.isEmpty() || tensors.size() != expected) {
            throw new IllegalArgumentException("got " + tensors.size() + " tensors and " + expected + " weights");
        }
        Shape shape = tensors.get(0).getShape();
        for (NDArray t : tensors) {
            if (!t.getShape().equals(shape)) {
                throw new IllegalArgumentException("tensors to merge differ in shape: " + shape + " and " + t.getShape());
            }
        }
        return NDArrays.stack(new NDList(tensors), 0);
    }

    /** Each slice i of {@code stacked} times {@code weights[i]}. */
    private static NDArray weighted(NDArray stacked, float[] weights) {
        long[] dims = new long[stacked.getShape().dimension()];
        java.util.Arrays.fill(dims, 1);
        dims[0] = weights.length;
        return stacked.mul(stacked.getManager().create(weights, new Shape(dims)).toType(stacked.getDataType(), false));
    }

    static double checkDensity(double density) {
        if (!(density > 0 && density <= 1)) {
            throw new IllegalArgumentException("density must be in (0, 1], got " + density);
        }
        return density;
    }

    /** An independent stream per task tensor from one seed. */
    static long mix(long seed, long i) {
        return new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * (i + 1))).nextLong();
    }
}
