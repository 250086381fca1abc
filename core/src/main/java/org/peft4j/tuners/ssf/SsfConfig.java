package org.peft4j.tuners.ssf;

import com.fasterxml.jackson.databind.JsonNode;
import org.peft4j.nn.Module;
import org.peft4j.tuners.ConfigJson;
import org.peft4j.tuners.Injection;
import org.peft4j.tuners.TargetModules;
import org.peft4j.tuners.TunerConfig;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * SSF settings (Lian et al. 2022, "Scaling &amp; Shifting your Features"): a learned per-channel
 * scale and shift after every targeted layer (linear layers, layer norms, the patch embedding).
 *
 * @param initStd the scale starts at N(1, initStd²), the shift at N(0, initStd²), as the authors' code
 */
public record SsfConfig(TargetModules targetModules, double initStd, List<String> modulesToSave) implements TunerConfig {

    public static final String PEFT_TYPE = "SSF";
    /** Every layer with weights, as the paper (the head is left out as a module to save). */
    public static final TargetModules ALL_LAYERS = TargetModules.regex(".*");

    public SsfConfig {
        if (!(initStd >= 0)) {
            throw new IllegalArgumentException("init_std must be >= 0, got " + initStd);
        }
        modulesToSave = modulesToSave == null ? List.of() : List.copyOf(modulesToSave);
    }

    @Override
    public String peftType() {
        return PEFT_TYPE;
    }

    @Override
    public Injection inject(Module model, String headPath) {
        return SsfModel.inject(model, headPath, this);
    }

    private static final Set<String> KNOWN = Set.of("peft_type", "target_modules", "exclude_modules",
            "layers_to_transform", "init_std", "modules_to_save", "base_model_name_or_path", "revision", "task_type",
            "inference_mode");

    public static SsfConfig fromJson(JsonNode o) {
        ConfigJson.requireType(o, PEFT_TYPE);
        ConfigJson.warnUnknown(o, KNOWN);
        return new SsfConfig(ConfigJson.targets(o), o.path("init_std").asDouble(0.02),
                ConfigJson.stringsOrNull(o, "modules_to_save"));
    }

    @Override
    public Map<String, Object> toJson() {
        Map<String, Object> m = ConfigJson.base(PEFT_TYPE, modulesToSave);
        m.put("init_std", initStd);
        ConfigJson.putTargets(m, targetModules);
        return m;
    }
}
