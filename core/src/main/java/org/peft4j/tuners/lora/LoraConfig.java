package org.peft4j.tuners.lora;

import com.fasterxml.jackson.databind.JsonNode;
import org.peft4j.nn.Module;
import org.peft4j.tuners.ConfigJson;
import org.peft4j.tuners.Injection;
import org.peft4j.tuners.TargetModules;
import org.peft4j.tuners.TunerConfig;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * LoRA settings, field for field Hugging Face PEFT's {@code LoraConfig} (snake_case in JSON),
 * covering the LoRA family: rsLoRA ({@code use_rslora}), DoRA ({@code use_dora}) and PiSSA
 * initialisation ({@code init_lora_weights="pissa"}).
 *
 * <p>{@code enableLora} is a peft4j extension for fused qkv linears (as loralib's MergedLinear):
 * e.g. {@code [true, false, true]} adapts only the q and v thirds. Adapters using it have a
 * smaller {@code lora_B} than PEFT expects and load only here.
 */
public record LoraConfig(
        int r,
        double loraAlpha,
        double loraDropout,
        TargetModules targetModules,
        boolean useRslora,
        Map<String, Integer> rankPattern,
        Map<String, Double> alphaPattern,
        Bias bias,
        List<String> modulesToSave,
        Init init,
        List<Boolean> enableLora,
        String baseModelNameOrPath,
        boolean useDora) implements TunerConfig {

    /** Which biases train with the adapter (and are saved in it). */
    public enum Bias {
        NONE("none"), ALL("all"), LORA_ONLY("lora_only");
        public final String json;

        Bias(String json) {
            this.json = json;
        }

        static Bias parse(String s) {
            for (Bias b : values()) {
                if (b.json.equals(s)) {
                    return b;
                }
            }
            throw new IllegalArgumentException("bias must be none, all or lora_only, got '" + s + "'");
        }
    }

    /**
     * How A and B start. KAIMING (PEFT {@code true}): A kaiming-uniform, B zero, so training starts
     * at the base model. GAUSSIAN (PEFT {@code "gaussian"}): A ~ N(0, 1/r), B zero. RANDOM (PEFT
     * {@code false}): B random too, a non-identity start, for tests. PISSA (PEFT {@code "pissa"}):
     * s·B·A = the top-r singular part of W, with that part taken out of the base (see {@link LoraLayer}).
     */
    public enum Init { KAIMING, GAUSSIAN, RANDOM, PISSA }

    public LoraConfig {
        if (r <= 0) {
            throw new IllegalArgumentException("r must be positive, got " + r);
        }
        if (loraDropout < 0 || loraDropout >= 1) {
            throw new IllegalArgumentException("lora_dropout must be in [0, 1), got " + loraDropout);
        }
        rankPattern = rankPattern == null ? Map.of() : new LinkedHashMap<>(rankPattern);
        alphaPattern = alphaPattern == null ? Map.of() : new LinkedHashMap<>(alphaPattern);
        modulesToSave = modulesToSave == null ? List.of() : List.copyOf(modulesToSave);
        if (enableLora != null && (enableLora.isEmpty() || !enableLora.contains(true))) {
            throw new IllegalArgumentException("enable_lora must enable at least one slice, got " + enableLora);
        }
        enableLora = enableLora == null ? null : List.copyOf(enableLora);
        if (useDora && init == Init.PISSA) {
            throw new IllegalArgumentException("use_dora with PiSSA initialisation is not supported; choose one");
        }
        if (useDora && enableLora != null) {
            // DoRA's magnitude rescales every output row, so the disabled slices would change too.
            throw new IllegalArgumentException("use_dora with enable_lora (a subset of q/k/v) is not supported");
        }
    }

    /** A plain LoRA (no DoRA). */
    public LoraConfig(int r, double loraAlpha, double loraDropout, TargetModules targetModules, boolean useRslora,
                      Map<String, Integer> rankPattern, Map<String, Double> alphaPattern, Bias bias,
                      List<String> modulesToSave, Init init, List<Boolean> enableLora, String baseModelNameOrPath) {
        this(r, loraAlpha, loraDropout, targetModules, useRslora, rankPattern, alphaPattern, bias, modulesToSave,
                init, enableLora, baseModelNameOrPath, false);
    }

    public static LoraConfig of(int r, double alpha, TargetModules targets) {
        return new LoraConfig(r, alpha, 0.0, targets, false, null, null, Bias.NONE, null, Init.KAIMING, null, null);
    }

    public LoraConfig withModulesToSave(List<String> modules) {
        return new LoraConfig(r, loraAlpha, loraDropout, targetModules, useRslora, rankPattern, alphaPattern,
                bias, modules, init, enableLora, baseModelNameOrPath, useDora);
    }

    public LoraConfig withDropout(double p) {
        return new LoraConfig(r, loraAlpha, p, targetModules, useRslora, rankPattern, alphaPattern,
                bias, modulesToSave, init, enableLora, baseModelNameOrPath, useDora);
    }

    public LoraConfig withBaseModel(String name) {
        return new LoraConfig(r, loraAlpha, loraDropout, targetModules, useRslora, rankPattern, alphaPattern,
                bias, modulesToSave, init, enableLora, name, useDora);
    }

    public LoraConfig withDora(boolean dora) {
        return new LoraConfig(r, loraAlpha, loraDropout, targetModules, useRslora, rankPattern, alphaPattern,
                bias, modulesToSave, init, enableLora, baseModelNameOrPath, dora);
    }

    public LoraConfig withInit(Init i) {
        return new LoraConfig(r, loraAlpha, loraDropout, targetModules, useRslora, rankPattern, alphaPattern,
                bias, modulesToSave, i, enableLora, baseModelNameOrPath, useDora);
    }

    @Override
    public String peftType() {
        return "LORA";
    }

    @Override
    public Injection inject(Module model, String headPath) {
        return LoraModel.inject(model, headPath, this);
    }

    /**
     * PiSSA trains on a base with its principal part taken out; as PEFT's
     * {@code path_initial_model_for_weight_conversion} does, it is saved as a plain LoRA of rank 2r
     * on the original base ({@code A' = [A; A₀]}, {@code B' = [B, −B₀]}) with alphas scaled to keep s.
     */
    @Override
    public TunerConfig savedConfig() {
        if (init != Init.PISSA) {
            return this;
        }
        double alphaFactor = useRslora ? Math.sqrt(2) : 2;
        Map<String, Integer> ranks = new LinkedHashMap<>();
        rankPattern.forEach((k, v) -> ranks.put(k, 2 * v));
        Map<String, Double> alphas = new LinkedHashMap<>();
        alphaPattern.forEach((k, v) -> alphas.put(k, alphaFactor * v));
        return new LoraConfig(2 * r, alphaFactor * loraAlpha, loraDropout, targetModules, useRslora, ranks, alphas,
                bias, modulesToSave, Init.KAIMING, enableLora, baseModelNameOrPath, false);
    }

    /** The rank of the module at {@code path}, after rank_pattern. */
    public int rankFor(String path) {
        String key = TargetModules.patternKey(rankPattern.keySet(), path);
        return key == null ? r : rankPattern.get(key);
    }

    /** The alpha of the module at {@code path}, after alpha_pattern. */
    public double alphaFor(String path) {
        String key = TargetModules.patternKey(alphaPattern.keySet(), path);
        return key == null ? loraAlpha : alphaPattern.get(key);
    }

    /** s = α/r, or α/√r with rsLoRA. */
    public double scalingFor(String path) {
        int rank = rankFor(path);
        return useRslora ? alphaFor(path) / Math.sqrt(rank) : alphaFor(path) / rank;
    }

    // ---- adapter_config.json ----

    private static final Set<String> KNOWN = Set.of(
            "peft_type", "r", "lora_alpha", "lora_dropout", "target_modules", "exclude_modules", "use_rslora",
            "rank_pattern", "alpha_pattern", "bias", "modules_to_save", "init_lora_weights", "enable_lora",
            "base_model_name_or_path", "layers_to_transform", "layers_pattern", "task_type", "revision",
            "inference_mode", "fan_in_fan_out", "use_dora", "auto_mapping", "layer_replication", "loftq_config",
            "megatron_config", "megatron_core", "lora_bias", "eva_config", "corda_config", "use_qalora",
            "qalora_group_size", "trainable_token_indices", "target_parameters", "runtime_config");

    /**
     * Reads PEFT's JSON. Unknown keys are dropped with a warning, as PEFT does; options that change
     * the math and are not implemented (fan_in_fan_out, lora_bias, ...) are refused rather than ignored.
     */
    public static LoraConfig fromJson(JsonNode o) {
        ConfigJson.requireType(o, "LORA");
        ConfigJson.warnUnknown(o, KNOWN);
        refuse("fan_in_fan_out", o.path("fan_in_fan_out").asBoolean(false), "fan_in_fan_out (Conv1D layers) is not supported");
        refuse("lora_bias", o.path("lora_bias").asBoolean(false), "lora_bias is not supported");
        refuse("layer_replication", !o.path("layer_replication").isNull() && !o.path("layer_replication").isMissingNode(),
                "layer_replication is not supported");
        TargetModules targets = ConfigJson.targets(o);
        Map<String, Integer> rankPattern = new LinkedHashMap<>();
        o.path("rank_pattern").fields().forEachRemaining(e -> rankPattern.put(e.getKey(), e.getValue().asInt()));
        Map<String, Double> alphaPattern = new LinkedHashMap<>();
        o.path("alpha_pattern").fields().forEachRemaining(e -> alphaPattern.put(e.getKey(), e.getValue().asDouble()));
        JsonNode init = o.path("init_lora_weights");
        Init initMode;
        if (init.isMissingNode() || init.isNull() || (init.isBoolean() && init.asBoolean())) {
            initMode = Init.KAIMING;
        } else if (init.isBoolean()) {
            initMode = Init.RANDOM;
        } else if (init.asText().equals("gaussian")) {
            initMode = Init.GAUSSIAN;
        } else if (init.asText().equals("pissa") || init.asText().startsWith("pissa_niter_")) {
            initMode = Init.PISSA; // the fast-SVD variant gets the exact SVD here
        } else {
            throw new IllegalArgumentException("init_lora_weights '" + init.asText()
                    + "' is not supported (true, false, \"gaussian\", \"pissa\")");
        }
        List<Boolean> enable = null;
        if (o.has("enable_lora") && !o.get("enable_lora").isNull()) {
            enable = new ArrayList<>();
            for (JsonNode n : o.get("enable_lora")) {
                enable.add(n.asBoolean());
            }
        }
        return new LoraConfig(
                o.path("r").asInt(8),
                o.path("lora_alpha").asDouble(8),
                o.path("lora_dropout").asDouble(0.0),
                targets,
                o.path("use_rslora").asBoolean(false),
                rankPattern,
                alphaPattern,
                Bias.parse(o.path("bias").asText("none")),
                ConfigJson.stringsOrNull(o, "modules_to_save"),
                initMode,
                enable,
                o.path("base_model_name_or_path").isTextual() ? o.get("base_model_name_or_path").asText() : null,
                o.path("use_dora").asBoolean(false));
    }

    private static void refuse(String key, boolean set, String why) {
        if (set) {
            throw new IllegalArgumentException(key + ": " + why);
        }
    }

    /** The fields PEFT writes for LoRA, sorted by key when serialised. */
    @Override
    public Map<String, Object> toJson() {
        Map<String, Object> m = new TreeMap<>();
        m.put("alpha_pattern", new TreeMap<>(alphaPattern));
        m.put("auto_mapping", null);
        m.put("base_model_name_or_path", baseModelNameOrPath);
        m.put("bias", bias.json);
        m.put("fan_in_fan_out", false);
        m.put("inference_mode", true);
        m.put("init_lora_weights", switch (init) {
            case KAIMING -> (Object) Boolean.TRUE;
            case GAUSSIAN -> "gaussian";
            case RANDOM -> Boolean.FALSE;
            case PISSA -> "pissa";
        });
        m.put("layer_replication", null);
        m.put("layers_pattern", null);
        m.put("loftq_config", Map.of());
        m.put("lora_alpha", ConfigJson.number(loraAlpha));
        m.put("lora_bias", false);
        m.put("lora_dropout", loraDropout);
        m.put("megatron_config", null);
        m.put("megatron_core", "megatron.core");
        m.put("modules_to_save", modulesToSave.isEmpty() ? null : modulesToSave);
        m.put("peft_type", "LORA");
        m.put("r", r);
        m.put("rank_pattern", new TreeMap<>(rankPattern));
        m.put("revision", null);
        m.put("task_type", null);
        m.put("use_dora", useDora);
        m.put("use_rslora", useRslora);
        if (enableLora != null) {
            m.put("enable_lora", enableLora);
        }
        ConfigJson.putTargets(m, targetModules);
        return m;
    }
}
