package org.peft4j.merge;

import java.util.Arrays;
import java.util.List;

/**
 * How adapters are combined. PEFT's {@code add_weighted_adapter} combination types keep PEFT's names
 * and results (see {@link LoraMerger}); the weight-space methods have their own names, as their
 * semantics differ (mergekit's for TIES and DARE).
 */
public enum MergeMethod {
    CAT("cat", Space.PEFT_CAT),
    LINEAR("linear", Space.PEFT_FACTORS),
    TIES("ties", Space.PEFT_FACTORS),
    DARE_LINEAR("dare_linear", Space.PEFT_FACTORS),
    DARE_TIES("dare_ties", Space.PEFT_FACTORS),
    MAGNITUDE_PRUNE("magnitude_prune", Space.PEFT_FACTORS),
    SVD("svd", Space.PEFT_SVD),
    TIES_SVD("ties_svd", Space.PEFT_SVD),
    DARE_LINEAR_SVD("dare_linear_svd", Space.PEFT_SVD),
    DARE_TIES_SVD("dare_ties_svd", Space.PEFT_SVD),
    MAGNITUDE_PRUNE_SVD("magnitude_prune_svd", Space.PEFT_SVD),
    /** {@code Σ wᵢ ΔWᵢ} with each ΔWᵢ its true weight change (scaled once; DoRA, MLAE included). */
    TASK_ARITHMETIC("task_arithmetic", Space.WEIGHT),
    /** mergekit's TIES on ΔW: weighted sign election, mean over the agreeing weights. */
    TIES_MERGING("ties_merging", Space.WEIGHT),
    /** mergekit's DARE on ΔW: random drop, L1-preserving rescale, weighted sum. */
    DARE_MERGING("dare_merging", Space.WEIGHT),
    /** mergekit's DARE then TIES on ΔW. */
    DARE_TIES_MERGING("dare_ties_merging", Space.WEIGHT),
    /** EMR-merging: one unified ΔW plus a mask and a rescaler per task. */
    EMR_MERGING("emr_merging", Space.WEIGHT),
    /** AdaMerging, one coefficient per task, learned by entropy minimisation on unlabeled images. */
    ADAMERGING("adamerging", Space.WEIGHT),
    /** AdaMerging with one coefficient per task and per block. */
    ADAMERGING_LAYERWISE("adamerging_layerwise", Space.WEIGHT);

    /** Where a method works: LoRA factors (PEFT), concatenated factors, or weight deltas. */
    public enum Space { PEFT_CAT, PEFT_FACTORS, PEFT_SVD, WEIGHT }

    public final String cliName;
    public final Space space;

    MergeMethod(String cliName, Space space) {
        this.cliName = cliName;
        this.space = space;
    }

    public static MergeMethod parse(String name) {
        for (MergeMethod m : values()) {
            if (m.cliName.equals(name)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown merge method '" + name + "'; methods: " + String.join(", ", names()));
    }

    public static List<String> names() {
        return Arrays.stream(values()).map(m -> m.cliName).toList();
    }

    /** PEFT's combination types (same names, same results). */
    public boolean isPeft() {
        return space != Space.WEIGHT;
    }

    /** Whether {@code density} applies (pruning or dropping). */
    public boolean usesDensity() {
        return switch (this) {
            case TIES, DARE_LINEAR, DARE_TIES, MAGNITUDE_PRUNE, TIES_SVD, DARE_LINEAR_SVD, DARE_TIES_SVD,
                    MAGNITUDE_PRUNE_SVD, TIES_MERGING, DARE_MERGING, DARE_TIES_MERGING -> true;
            default -> false;
        };
    }

    /** Whether a sign election (and so {@code majority_sign_method}) takes part. */
    public boolean usesSign() {
        return switch (this) {
            case TIES, DARE_TIES, TIES_SVD, DARE_TIES_SVD, TIES_MERGING, DARE_TIES_MERGING -> true;
            default -> false;
        };
    }

    /** Whether the result is factorised by a truncated SVD (so {@code svd_rank} and {@code svd_clamp} apply). */
    public boolean usesSvd() {
        return space == Space.PEFT_SVD || space == Space.WEIGHT;
    }

    /** Whether random draws take part (so the seed matters). */
    public boolean isRandom() {
        return cliName.startsWith("dare");
    }

    public boolean isAdaMerging() {
        return this == ADAMERGING || this == ADAMERGING_LAYERWISE;
    }
}
