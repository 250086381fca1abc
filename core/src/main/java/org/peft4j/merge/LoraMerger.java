package org.peft4j.merge;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import org.peft4j.nn.Hook;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.WeightDelta;
import org.peft4j.tuners.AdapterModel;
import org.peft4j.tuners.Injection;
import org.peft4j.tuners.TargetModules;
import org.peft4j.tuners.TunerConfig;
import org.peft4j.tuners.lora.LoraConfig;
import org.peft4j.tuners.mlae.MlaeConfig;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Merges LoRA-family adapters loaded in one {@link AdapterModel} into one new LoRA adapter, layer by
 * layer. PEFT's combination types reproduce {@code LoraModel.add_weighted_adapter} (peft commit
 * {@code 5d602fdbff04c33c1c4de55cda9d4ae1d7cb7e40}), quirks included; with {@code cᵢ = wᵢ·sᵢ}
 * ({@code sᵢ} adapter i's scaling at that layer):
 * <ul>
 * <li>{@code cat}: {@code A' = [c₁A₁; …; cₙAₙ]}, {@code B' = [B₁ … Bₙ]}, exact, rank {@code Σ rᵢ}
 *     (layers some adapters do not touch keep zero rows up to that rank, as in PEFT).</li>
 * <li>factor space ({@code linear}, {@code ties}, {@code dare_linear}, {@code dare_ties},
 *     {@code magnitude_prune}; equal ranks required): the function runs on the A's with weights
 *     {@code sgn(cᵢ)√|cᵢ|} and on the B's with {@code √|cᵢ|}, separately. So {@code B'A'} has cross
 *     terms {@code √(cᵢcⱼ) BᵢAⱼ}: {@code linear} is not {@code Σ cᵢBᵢAᵢ}. Pruning and sign election
 *     act on factors, not on ΔW.</li>
 * <li>svd family ({@code svd}, {@code ties_svd}, ...): the function runs on {@code ΔWᵢ = sᵢBᵢAᵢ}
 *     weighted by {@code cᵢ}, so the scaling enters twice ({@code svd} = {@code Σ wᵢsᵢ²BᵢAᵢ}); then
 *     {@code B' = U_r S_r}, {@code A' = V_rᵀ} with {@code r = svd_rank} or the largest input rank, and
 *     the optional quantile clamp.</li>
 * <li>the new adapter has {@code lora_alpha = r}, so its scaling is 1. PEFT copies {@code use_rslora}
 *     from the first adapter, which makes that scaling {@code √r} (a PEFT bug); it is written false
 *     here, so the file means what was computed.</li>
 * </ul>
 * PEFT's names need plain LoRA inputs (PiSSA adapters are, in their saved form). The weight-space
 * methods ({@link MergeMethod.Space#WEIGHT}) merge each adapter's true {@code ΔWᵢ} (scaled once, DoRA
 * and MLAE included), with layers an adapter does not touch counting as {@code ΔWᵢ = 0}, and factorise
 * the result by truncated SVD, by default at the sum of the input ranks (exact for task arithmetic
 * of plain LoRAs).
 */
public final class LoraMerger {

    /** Per-layer weights of the inputs: constant for every method except layer-wise AdaMerging. */
    public interface LayerWeights {
        float[] at(String path);

        static LayerWeights constant(float[] w) {
            return path -> w;
        }
    }

    /**
     * One merge's settings. {@code density} for the methods that prune, {@code sign} for those that
     * elect signs, {@code svdRank}/{@code svdClamp} (nullable) for the SVD family, {@code seed} for DARE.
     */
    public record Options(MergeMethod method, LayerWeights weights, int count, Double density,
                          MergeOps.SignMethod sign, Integer svdRank, Double svdClamp, long seed) {
        public Options {
            if (density != null) {
                MergeOps.checkDensity(density);
            }
            if (method.usesDensity() && density == null) {
                throw new IllegalArgumentException(method.cliName + " needs a density in (0, 1]");
            }
            if (svdRank != null && svdRank <= 0) {
                throw new IllegalArgumentException("svd rank must be positive, got " + svdRank);
            }
            if (svdClamp != null && !(svdClamp >= 0 && svdClamp <= 1)) {
                throw new IllegalArgumentException("svd clamp is a quantile in [0, 1], got " + svdClamp);
            }
            sign = sign == null ? MergeOps.SignMethod.TOTAL : sign;
        }

        public static Options of(MergeMethod method, float[] weights) {
            return of(method, weights, null);
        }

        public static Options of(MergeMethod method, float[] weights, Double density) {
            return new Options(method, LayerWeights.constant(weights), weights.length, density, null, null, null, 0);
        }
    }

    /**
     * The merged adapter: its config, its tensors by key under {@link AdapterModel#PREFIX}
     * ({@code PATH.lora_A.weight}), for EMR the per-task modulators, and a summary of the merge.
     */
    public record Result(LoraConfig config, LinkedHashMap<String, NDArray> tensors, EmrModulators emr,
                         Map<String, Object> info) {}

    /** EMR's unified deltas and masks by layer path, and one rescaler per task (over all layers). */
    public record EmrModulators(LinkedHashMap<String, NDArray> unified, LinkedHashMap<String, List<NDArray>> masks,
                                float[] rescalers) {}

    /** What the merger reads from one input adapter. */
    private record Input(String name, TunerConfig config, LoraConfig fileConfig, Map<String, Hook> hooks) {
        int maxRank() {
            if (fileConfig != null) {
                return fileConfig.rankPattern().values().stream().mapToInt(Integer::intValue).reduce(fileConfig.r(), Math::max);
            }
            return ((MlaeConfig) config).r();
        }

        /** PEFT's file form of the hook at {@code path}: {@code lora_A.weight}, {@code lora_B.weight}. */
        NDArray factor(String path, String which) {
            return hooks.get(path).stateToSave().get(which);
        }

        double scaling(String path) {
            return fileConfig.scalingFor(path);
        }

        int rankAt(String path) {
            return fileConfig != null ? fileConfig.rankFor(path) : maxRank();
        }
    }

    private LoraMerger() {}

    /**
     * Merges adapters {@code names} of {@code model} (all loaded) into a new adapter. The model keeps
     * its adapters and active set; adapters merged into its weights are unmerged first, as every ΔW
     * is taken against the base weights.
     */
    public static Result merge(AdapterModel model, List<String> names, Options options) {
        if (names.size() != options.count()) {
            throw new IllegalArgumentException(options.count() + " weights for " + names.size() + " adapters");
        }
        if (names.isEmpty()) {
            throw new IllegalArgumentException("no adapters to merge");
        }
        model.unmerge(); // ΔW of DoRA and the hooks' weights must see the base weights
        List<Input> inputs = new ArrayList<>();
        for (String n : names) {
            inputs.add(input(model, n, options.method()));
        }
        MergeMethod method = names.size() == 1 && options.method().space == MergeMethod.Space.PEFT_FACTORS
                ? MergeMethod.LINEAR : options.method(); // PEFT: one adapter can only be merged linearly
        Set<String> paths = new LinkedHashSet<>();
        inputs.forEach(in -> paths.addAll(in.hooks.keySet()));
        Map<String, LinearLayer> layers = model.base().modulesOfType(LinearLayer.class);
        int newRank = method.space == MergeMethod.Space.WEIGHT
                ? paths.stream().mapToInt(p -> layerRank(p, inputs, layers.get(p), options.svdRank())).max().orElseThrow()
                : newRank(method, inputs, options.svdRank());
        List<Boolean> enableLora = commonEnableLora(method, inputs);

        LinkedHashMap<String, NDArray> tensors = new LinkedHashMap<>();
        EmrModulators emr = method == MergeMethod.EMR_MERGING
                ? new EmrModulators(new LinkedHashMap<>(), new LinkedHashMap<>(), new float[names.size()]) : null;
        double[] emrTaskL1 = new double[names.size()];
        double[] emrKeptL1 = new double[names.size()];
        List<Double> truncation = new ArrayList<>();
        int layerIndex = 0;
        for (String path : paths) {
            LinearLayer layer = layers.get(path);
            float[] w = options.weights().at(path);
            long seed = MergeOps.mix(options.seed(), path.hashCode() * 31L + layerIndex++);
            try (NDScope scope = new NDScope()) {
                List<NDArray> kept = new ArrayList<>();
                switch (method.space) {
                    case PEFT_CAT -> kept.addAll(cat(path, inputs, w, newRank));
                    case PEFT_FACTORS -> kept.addAll(factors(path, method, inputs, w, options, seed));
                    case PEFT_SVD, WEIGHT -> {
                        NDArray delta = method.space == MergeMethod.Space.PEFT_SVD
                                ? peftDelta(path, method, inputs, w, options, seed)
                                : weightDelta(path, method, inputs, layer, w, options, seed, emr, emrTaskL1, emrKeptL1);
                        int rank = method.space == MergeMethod.Space.PEFT_SVD ? newRank
                                : layerRank(path, inputs, layer, options.svdRank());
                        int cap = (int) Math.min(layer.outFeatures(), layer.inFeatures());
                        if (rank > cap) {
                            throw new IllegalArgumentException("SVD rank " + rank + " exceeds min(out, in) = " + cap
                                    + " of layer '" + path + "'; give a smaller --svd-rank");
                        }
                        MergeOps.Factors f = MergeOps.truncatedSvd(delta, rank, options.svdClamp());
                        truncation.add(relativeError(delta, f));
                        kept.add(padRows(f.a(), newRank));
                        kept.add(padColumns(f.b(), newRank));
                    }
                }
                tensors.put(path + ".lora_A.weight", kept.get(0));
                tensors.put(path + ".lora_B.weight", kept.get(1));
                kept.forEach(NDScope::unregister);
                if (emr != null) {
                    NDScope.unregister(emr.unified().get(path));
                    emr.masks().get(path).forEach(NDScope::unregister);
                }
            }
        }
        if (emr != null) {
            for (int i = 0; i < names.size(); i++) {
                emr.rescalers()[i] = emrKeptL1[i] > 0 ? (float) (emrTaskL1[i] / emrKeptL1[i]) : 0f;
            }
        }
        LoraConfig first = inputs.get(0).fileConfig;
        LoraConfig config = new LoraConfig(newRank, newRank, first != null ? first.loraDropout() : 0.0,
                mergedTargets(model, inputs, paths), false, null, null, LoraConfig.Bias.NONE, null,
                LoraConfig.Init.KAIMING, enableLora, first != null ? first.baseModelNameOrPath() : null, false);
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("method", method.cliName);
        info.put("rank", newRank);
        info.put("layers", paths.size());
        if (!truncation.isEmpty()) {
            info.put("svd_relative_error_max", truncation.stream().mapToDouble(Double::doubleValue).max().orElse(0));
            info.put("svd_relative_error_mean", truncation.stream().mapToDouble(Double::doubleValue).average().orElse(0));
        }
        return new Result(config, tensors, emr, info);
    }

    // ---- inputs and checks ----

    private static Input input(AdapterModel model, String name, MergeMethod method) {
        TunerConfig config = model.config(name);
        LoraConfig fileConfig = null;
        if (config instanceof LoraConfig lora) {
            fileConfig = (LoraConfig) lora.savedConfig();
            if (lora.useDora() && method.isPeft()) {
                throw new IllegalArgumentException("adapter '" + name + "' is DoRA: PEFT's " + method.cliName
                        + " works on LoRA factors and would drop its magnitude; use a weight-space method ("
                        + weightSpaceNames() + ")");
            }
        } else if (config instanceof MlaeConfig) {
            if (method.isPeft()) {
                throw new IllegalArgumentException("adapter '" + name + "' is MLAE: PEFT's " + method.cliName
                        + " works on plain LoRA factors; use a weight-space method (" + weightSpaceNames() + ")");
            }
        } else {
            throw new IllegalArgumentException("adapter '" + name + "' is " + config.peftType()
                    + ": only LoRA-family adapters (LoRA, DoRA, PiSSA, MLAE) can be merged into a LoRA");
        }
        Map<String, Hook> hooks = new LinkedHashMap<>();
        for (Injection.Placement<?> pl : model.placements(name)) {
            if (!(pl.hook() instanceof WeightDelta)) {
                throw new IllegalArgumentException("adapter '" + name + "': its " + pl.hook().getClass().getSimpleName()
                        + " at '" + pl.path() + "' is not a weight change");
            }
            hooks.put(pl.path(), pl.hook());
        }
        return new Input(name, config, fileConfig, hooks);
    }

    private static String weightSpaceNames() {
        return String.join(", ", java.util.Arrays.stream(MergeMethod.values())
                .filter(m -> !m.isPeft()).map(m -> m.cliName).toList());
    }

    /** PEFT's {@code _check_add_weighted_adapter}: the new rank, with its equal-rank rule. */
    private static int newRank(MergeMethod method, List<Input> inputs, Integer svdRank) {
        List<Integer> ranks = inputs.stream().map(Input::maxRank).toList();
        return switch (method.space) {
            case PEFT_FACTORS -> {
                if (new TreeSet<>(ranks).size() != 1) {
                    throw new IllegalArgumentException(method.cliName + " needs adapters of equal rank, got "
                            + describeRanks(inputs) + "; use cat, svd or a weight-space method");
                }
                yield ranks.get(0);
            }
            case PEFT_CAT -> ranks.stream().mapToInt(Integer::intValue).sum();
            case PEFT_SVD -> svdRank != null ? svdRank : ranks.stream().mapToInt(Integer::intValue).max().orElseThrow();
            case WEIGHT -> throw new IllegalStateException("weight-space ranks are chosen per layer");
        };
    }

    private static String describeRanks(List<Input> inputs) {
        return String.join(", ", inputs.stream().map(in -> in.name + " r=" + in.maxRank()).toList());
    }

    /** cat and factor-space methods keep enable_lora (fused-qkv slices), which must then agree. */
    private static List<Boolean> commonEnableLora(MergeMethod method, List<Input> inputs) {
        if (method.space != MergeMethod.Space.PEFT_CAT && method.space != MergeMethod.Space.PEFT_FACTORS) {
            return null; // ΔW is full-size; the factorised result covers every slice
        }
        List<Boolean> first = inputs.get(0).fileConfig.enableLora();
        for (Input in : inputs) {
            if (!java.util.Objects.equals(first, in.fileConfig.enableLora())) {
                throw new IllegalArgumentException("adapters '" + inputs.get(0).name + "' and '" + in.name
                        + "' adapt different q/k/v slices (enable_lora); use svd or a weight-space method");
            }
        }
        return first;
    }

    /** The per-layer rank of a weight-space result: svd_rank, or the sum of the input ranks there. */
    private static int layerRank(String path, List<Input> inputs, LinearLayer layer, Integer svdRank) {
        if (svdRank != null) {
            return svdRank;
        }
        int sum = inputs.stream().filter(in -> in.hooks.containsKey(path)).mapToInt(in -> in.rankAt(path)).sum();
        return (int) Math.min(sum, Math.min(layer.outFeatures(), layer.inFeatures()));
    }

    // ---- the methods, one layer at a time ----

    private static List<NDArray> cat(String path, List<Input> inputs, float[] w, int newRank) {
        NDList as = new NDList();
        NDList bs = new NDList();
        for (int i = 0; i < inputs.size(); i++) {
            Input in = inputs.get(i);
            if (!in.hooks.containsKey(path)) {
                continue;
            }
            as.add(in.factor(path, "lora_A.weight").mul((float) (w[i] * in.scaling(path))));
            bs.add(in.factor(path, "lora_B.weight"));
        }
        return List.of(padRows(NDArrays.concat(as, 0), newRank), padColumns(NDArrays.concat(bs, 1), newRank));
    }

    private static List<NDArray> factors(String path, MergeMethod method, List<Input> inputs, float[] w,
                                         Options o, long seed) {
        List<NDArray> as = new ArrayList<>();
        List<NDArray> bs = new ArrayList<>();
        List<Float> wa = new ArrayList<>();
        List<Float> wb = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            Input in = inputs.get(i);
            if (!in.hooks.containsKey(path)) {
                continue;
            }
            NDArray a = in.factor(path, "lora_A.weight");
            if (!as.isEmpty() && !a.getShape().equals(as.get(0).getShape())) {
                throw new IllegalArgumentException(method.cliName + " needs equal ranks, but at '" + path + "' adapter '"
                        + in.name + "' has lora_A " + a.getShape() + " and '" + inputs.get(0).name + "' "
                        + as.get(0).getShape() + " (rank_pattern)");
            }
            double c = w[i] * in.scaling(path);
            double root = Math.sqrt(Math.abs(c));
            as.add(a);
            bs.add(in.factor(path, "lora_B.weight"));
            wa.add((float) (c >= 0 ? root : -root)); // the sign rides on A only, so it is not squared away
            wb.add((float) root);
        }
        return List.of(combine(method, as, toArray(wa), o, MergeOps.mix(seed, 'A')),
                combine(method, bs, toArray(wb), o, MergeOps.mix(seed, 'B')));
    }

    /** PEFT's svd family: its ΔWᵢ = sᵢBᵢAᵢ, weighted by cᵢ = wᵢsᵢ (the scaling counted twice, as PEFT does). */
    private static NDArray peftDelta(String path, MergeMethod method, List<Input> inputs, float[] w, Options o,
                                     long seed) {
        List<NDArray> deltas = new ArrayList<>();
        List<Float> c = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            Input in = inputs.get(i);
            if (in.hooks.containsKey(path)) {
                deltas.add(((WeightDelta) in.hooks.get(path)).weightDelta());
                c.add((float) (w[i] * in.scaling(path)));
            }
        }
        return combine(method, deltas, toArray(c), o, seed);
    }

    /** The weight-space methods on every adapter's true ΔW (zero where it does not touch the layer). */
    private static NDArray weightDelta(String path, MergeMethod method, List<Input> inputs, LinearLayer layer,
                                       float[] w, Options o, long seed, EmrModulators emr, double[] taskL1,
                                       double[] keptL1) {
        List<NDArray> deltas = new ArrayList<>();
        NDArray weight = layer.weight().getArray();
        for (Input in : inputs) {
            deltas.add(in.hooks.containsKey(path) ? ((WeightDelta) in.hooks.get(path)).weightDelta() : weight.zerosLike());
        }
        if (method == MergeMethod.EMR_MERGING) {
            List<NDArray> weighted = new ArrayList<>();
            for (int i = 0; i < deltas.size(); i++) {
                weighted.add(deltas.get(i).mul(w[i]));
            }
            MergeOps.Emr e = MergeOps.emr(weighted);
            emr.unified().put(path, e.unified());
            emr.masks().put(path, e.masks().stream().map(m -> m.toType(ai.djl.ndarray.types.DataType.UINT8, false)).toList());
            for (int i = 0; i < deltas.size(); i++) {
                taskL1[i] += e.taskL1()[i];
                keptL1[i] += e.keptL1()[i];
            }
            return e.unified();
        }
        return combine(method, deltas, w, o, seed);
    }

    private static NDArray combine(MergeMethod method, List<NDArray> t, float[] w, Options o, long seed) {
        return switch (method) {
            case LINEAR, SVD, TASK_ARITHMETIC, ADAMERGING, ADAMERGING_LAYERWISE -> MergeOps.taskArithmetic(t, w);
            case TIES, TIES_SVD -> MergeOps.ties(t, w, o.density(), o.sign());
            case DARE_LINEAR, DARE_LINEAR_SVD -> MergeOps.dareLinear(t, w, o.density(), seed);
            case DARE_TIES, DARE_TIES_SVD -> MergeOps.dareTies(t, w, o.density(), o.sign(), seed);
            case MAGNITUDE_PRUNE, MAGNITUDE_PRUNE_SVD -> MergeOps.magnitudePrune(t, w, o.density());
            case TIES_MERGING -> MergeOps.tiesMerging(t, w, o.density(), o.sign());
            case DARE_MERGING -> MergeOps.dareMerging(t, w, o.density(), false, o.sign(), seed);
            case DARE_TIES_MERGING -> MergeOps.dareMerging(t, w, o.density(), true, o.sign(), seed);
            case CAT, EMR_MERGING -> throw new IllegalStateException(method + " is not an elementwise combination");
        };
    }

    // ---- the result ----

    /**
     * target_modules of the merged adapter. As PEFT: the union of name lists, or the alternation of
     * regexes; when that would select other layers than the merged ones (mixed forms, excludes,
     * layers_to_transform), the exact list of merged layer paths, which always reloads.
     */
    private static TargetModules mergedTargets(AdapterModel model, List<Input> inputs, Set<String> paths) {
        List<TargetModules> targets = inputs.stream().map(in -> in.fileConfig != null ? in.fileConfig.targetModules()
                : ((MlaeConfig) in.config).targetModules()).toList();
        TargetModules candidate = null;
        if (targets.stream().allMatch(t -> t.names() != null)) {
            TreeSet<String> union = new TreeSet<>();
            targets.forEach(t -> union.addAll(t.names()));
            candidate = new TargetModules(List.copyOf(union), null, null, null);
        } else if (targets.stream().allMatch(t -> t.regex() != null)) {
            candidate = TargetModules.regex(String.join("|", targets.stream().map(t -> "(" + t.regex() + ")").toList()));
        }
        if (candidate != null) {
            try {
                Set<String> selected = candidate.select(model.base(), LinearLayer.class, model.headPath(), List.of()).keySet();
                if (selected.equals(paths)) {
                    return candidate;
                }
            } catch (IllegalArgumentException e) {
                // falls through to the exact list
            }
        }
        return new TargetModules(List.copyOf(paths), null, null, null);
    }

    private static NDArray padRows(NDArray a, int rows) {
        long have = a.getShape().get(0);
        if (have == rows) {
            return a;
        }
        return NDArrays.concat(new NDList(a, a.getManager().zeros(new Shape(rows - have, a.getShape().get(1)))), 0);
    }

    private static NDArray padColumns(NDArray b, int cols) {
        long have = b.getShape().get(1);
        if (have == cols) {
            return b;
        }
        return NDArrays.concat(new NDList(b, b.getManager().zeros(new Shape(b.getShape().get(0), cols - have))), 1);
    }

    /** {@code ‖ΔW − B·A‖ / ‖ΔW‖}: what the rank-r factorisation lost. */
    private static double relativeError(NDArray delta, MergeOps.Factors f) {
        float norm = delta.norm().getFloat();
        return norm == 0 ? 0 : delta.sub(f.b().matMul(f.a())).norm().getFloat() / norm;
    }

    private static float[] toArray(List<Float> values) {
        float[] out = new float[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = values.get(i);
        }
        return out;
    }
}
