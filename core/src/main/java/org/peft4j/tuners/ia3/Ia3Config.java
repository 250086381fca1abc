package org.peft4j.tuners.ia3;

import com.fasterxml.jackson.databind.JsonNode;
import org.peft4j.nn.Module;
import org.peft4j.tuners.ConfigJson;
import org.peft4j.tuners.Injection;
import org.peft4j.tuners.TargetModules;
import org.peft4j.tuners.TunerConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * (IA)³ settings (Liu et al. 2022), field for field Hugging Face PEFT's {@code IA3Config}: learned
 * vectors that rescale the outputs of the targeted linear layers, or the inputs of the
 * feed-forward ones among them.
 *
 * @param feedforwardNames PEFT's {@code feedforward_modules} as a list: a target is feed-forward when its
 *                         path ends with one of them (PEFT's plain suffix test, no dot boundary)
 * @param feedforwardRegex or as one full-match regex (exactly one of the two is non-null, or both null: none)
 * @param initIa3Weights   true: the vectors start at 1 (the base model); false: N(0, 1), for tests
 */
public record Ia3Config(TargetModules targetModules, List<String> feedforwardNames, String feedforwardRegex,
                        List<String> modulesToSave, boolean initIa3Weights) implements TunerConfig {

    public static final String PEFT_TYPE = "IA3";

    public Ia3Config {
        if (feedforwardNames != null && feedforwardRegex != null) {
            throw new IllegalArgumentException("give feedforward_modules as a list or as one regex, not both");
        }
        feedforwardNames = feedforwardNames == null ? null : List.copyOf(feedforwardNames);
        modulesToSave = modulesToSave == null ? List.of() : List.copyOf(modulesToSave);
        if (feedforwardNames != null && targetModules.names() != null
                && !targetModules.names().containsAll(feedforwardNames)) {
            throw new IllegalArgumentException("feedforward_modules " + feedforwardNames
                    + " must be a subset of target_modules " + targetModules.names());
        }
    }

    /** Whether the target at {@code path} has its input scaled (PEFT's {@code _check_target_module_feedforward}). */
    public boolean isFeedforward(String path) {
        if (feedforwardRegex != null) {
            return path.matches(feedforwardRegex);
        }
        return feedforwardNames != null && feedforwardNames.stream().anyMatch(path::endsWith);
    }

    @Override
    public String peftType() {
        return PEFT_TYPE;
    }

    @Override
    public Injection inject(Module model, String headPath) {
        return Ia3Model.inject(model, headPath, this);
    }

    private static final Set<String> KNOWN = Set.of("peft_type", "target_modules", "exclude_modules",
            "feedforward_modules", "fan_in_fan_out", "modules_to_save", "init_ia3_weights", "base_model_name_or_path",
            "revision", "task_type", "inference_mode", "auto_mapping", "layers_to_transform");

    public static Ia3Config fromJson(JsonNode o) {
        ConfigJson.requireType(o, PEFT_TYPE);
        ConfigJson.warnUnknown(o, KNOWN);
        if (o.path("fan_in_fan_out").asBoolean(false)) {
            throw new IllegalArgumentException("fan_in_fan_out: Conv1D layers are not supported");
        }
        JsonNode ff = o.path("feedforward_modules");
        return new Ia3Config(ConfigJson.targets(o), ff.isArray() ? ConfigJson.strings(ff) : null,
                ff.isTextual() ? ff.asText() : null, ConfigJson.stringsOrNull(o, "modules_to_save"),
                o.path("init_ia3_weights").asBoolean(true));
    }

    /** The fields PEFT writes for IA3. */
    @Override
    public Map<String, Object> toJson() {
        Map<String, Object> m = new TreeMap<>(ConfigJson.base(PEFT_TYPE, modulesToSave));
        m.put("auto_mapping", null);
        m.put("fan_in_fan_out", false);
        m.put("feedforward_modules", feedforwardRegex != null ? feedforwardRegex
                : feedforwardNames == null ? null : new ArrayList<>(new TreeSet<>(feedforwardNames)));
        m.put("init_ia3_weights", initIa3Weights);
        ConfigJson.putTargets(m, targetModules);
        if (targetModules.layersToTransform() == null) {
            m.remove("layers_to_transform"); // not a PEFT IA3 field
        }
        return m;
    }
}
