package org.peft4j.tuners.mlae;

import com.fasterxml.jackson.databind.JsonNode;
import org.peft4j.nn.Module;
import org.peft4j.tuners.ConfigJson;
import org.peft4j.tuners.Injection;
import org.peft4j.tuners.TargetModules;
import org.peft4j.tuners.TunerConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * MLAE settings (Wang et al. 2024, "Masked LoRA Experts"): r rank-1 experts per targeted linear,
 * learnable coefficients λ initialised to {@code lora_alpha}, and expert-level masking.
 *
 * @param r            number of rank-1 experts per layer
 * @param loraAlpha    the initial value of every λᵢ (there is no α/r factor: λ carries the scale)
 * @param dropRate     the stochastic masking rate p before the schedule (0 for fixed masking)
 * @param masking      fixed, stochastic or mixed (see {@link Masking})
 * @param fixedExperts expert indices permanently off with fixed or mixed masking, the same in every layer
 * @param schedule     how the rate varies over the layers (see {@link Schedule})
 * @param loraDropout  ordinary dropout on the layer input, as LoRA's
 */
public record MlaeConfig(int r, double loraAlpha, double dropRate, Masking masking, List<Integer> fixedExperts,
                         Schedule schedule, double loraDropout, TargetModules targetModules,
                         List<String> modulesToSave) implements TunerConfig {

    public static final String PEFT_TYPE = "MLAE";

    /**
     * FIXED: the chosen experts are off in training and inference (no random masking). STOCHASTIC:
     * a fresh Bernoulli mask every forward call, survivors scaled by 1/(1−p), none in inference (the
     * paper's best). MIXED: both, the random mask over the experts that are not fixed off.
     */
    public enum Masking {
        FIXED, STOCHASTIC, MIXED;

        public static Masking parse(String s) {
            try {
                return valueOf(s.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("masking must be fixed, stochastic or mixed, got '" + s + "'");
            }
        }

        public String json() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * The per-layer rate for layer l of L, with {@code t = l/(L−1)} (0 when L = 1) and p the drop rate
     * as the largest rate: uniform p; increasing p·t; decreasing p·(1−t); hourglass p·|2t−1| (p at
     * both ends, 0 in the middle); protruding p·(1−|2t−1|) (0 at both ends, p in the middle). The
     * paper names these schedules without formulas; these are ours.
     */
    public enum Schedule {
        UNIFORM, INCREASING, DECREASING, HOURGLASS, PROTRUDING;

        public static Schedule parse(String s) {
            try {
                return valueOf(s.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(
                        "schedule must be uniform, increasing, decreasing, hourglass or protruding, got '" + s + "'");
            }
        }

        public double rate(double p, int layer, int layers) {
            double t = layers <= 1 ? 0 : layer / (double) (layers - 1);
            return switch (this) {
                case UNIFORM -> p;
                case INCREASING -> p * t;
                case DECREASING -> p * (1 - t);
                case HOURGLASS -> p * Math.abs(2 * t - 1);
                case PROTRUDING -> p * (1 - Math.abs(2 * t - 1));
            };
        }

        public String json() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public MlaeConfig {
        if (r <= 0) {
            throw new IllegalArgumentException("r must be positive, got " + r);
        }
        if (!(dropRate >= 0 && dropRate < 1)) {
            throw new IllegalArgumentException("drop_rate must be in [0, 1), got " + dropRate);
        }
        if (!(loraDropout >= 0 && loraDropout < 1)) {
            throw new IllegalArgumentException("lora_dropout must be in [0, 1), got " + loraDropout);
        }
        fixedExperts = fixedExperts == null ? List.of() : List.copyOf(new TreeSet<>(fixedExperts));
        modulesToSave = modulesToSave == null ? List.of() : List.copyOf(modulesToSave);
        for (int e : fixedExperts) {
            if (e < 0 || e >= r) {
                throw new IllegalArgumentException("fixed expert " + e + " does not exist: experts are 0.." + (r - 1));
            }
        }
        switch (masking) {
            case FIXED -> {
                requireFixedSet(fixedExperts, masking, r);
                if (dropRate != 0) {
                    throw new IllegalArgumentException("fixed masking drops no expert at random: drop_rate must be 0, got "
                            + dropRate + " (use mixed masking for both)");
                }
            }
            case MIXED -> {
                requireFixedSet(fixedExperts, masking, r);
                if (dropRate == 0) {
                    throw new IllegalArgumentException("mixed masking needs a drop_rate > 0 (with 0 it is fixed masking)");
                }
            }
            case STOCHASTIC -> {
                if (!fixedExperts.isEmpty()) {
                    throw new IllegalArgumentException("fixed_experts apply to fixed or mixed masking, not stochastic");
                }
            }
        }
    }

    private static void requireFixedSet(List<Integer> fixed, Masking masking, int r) {
        if (fixed.isEmpty()) {
            throw new IllegalArgumentException(masking.json() + " masking needs the experts to fix off (fixed_experts)");
        }
        if (fixed.size() >= r) {
            throw new IllegalArgumentException("fixed_experts " + fixed + " would switch off all " + r + " experts");
        }
    }

    /** Stochastic masking at rate p on every layer. */
    public static MlaeConfig stochastic(int r, double alpha, double p, TargetModules targets) {
        return new MlaeConfig(r, alpha, p, Masking.STOCHASTIC, null, Schedule.UNIFORM, 0, targets, null);
    }

    @Override
    public String peftType() {
        return PEFT_TYPE;
    }

    @Override
    public Injection inject(Module model, String headPath) {
        return MlaeModel.inject(model, headPath, this);
    }

    private static final Set<String> KNOWN = Set.of("peft_type", "r", "lora_alpha", "drop_rate", "masking",
            "fixed_experts", "schedule", "lora_dropout", "target_modules", "exclude_modules", "layers_to_transform",
            "modules_to_save", "base_model_name_or_path", "revision", "task_type", "inference_mode");

    public static MlaeConfig fromJson(JsonNode o) {
        ConfigJson.requireType(o, PEFT_TYPE);
        ConfigJson.warnUnknown(o, KNOWN);
        List<Integer> fixed = new ArrayList<>();
        o.path("fixed_experts").forEach(n -> fixed.add(n.asInt()));
        return new MlaeConfig(o.path("r").asInt(8), o.path("lora_alpha").asDouble(8), o.path("drop_rate").asDouble(0),
                Masking.parse(o.path("masking").asText("stochastic")), fixed,
                Schedule.parse(o.path("schedule").asText("uniform")), o.path("lora_dropout").asDouble(0),
                ConfigJson.targets(o), ConfigJson.stringsOrNull(o, "modules_to_save"));
    }

    @Override
    public Map<String, Object> toJson() {
        Map<String, Object> m = ConfigJson.base(PEFT_TYPE, modulesToSave);
        m.put("r", r);
        m.put("lora_alpha", ConfigJson.number(loraAlpha));
        m.put("drop_rate", dropRate);
        m.put("masking", masking.json());
        m.put("fixed_experts", fixedExperts);
        m.put("schedule", schedule.json());
        m.put("lora_dropout", loraDropout);
        ConfigJson.putTargets(m, targetModules);
        return m;
    }
}
