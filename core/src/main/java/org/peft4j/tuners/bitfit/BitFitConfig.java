package org.peft4j.tuners.bitfit;

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
 * BitFit settings (Ben Zaken et al. 2022): only the biases train, those of every targeted layer
 * (linear layers, layer norms, the patch embedding); layers without a bias are skipped.
 */
public record BitFitConfig(TargetModules targetModules, List<String> modulesToSave) implements TunerConfig {

    public static final String PEFT_TYPE = "BITFIT";
    public static final TargetModules ALL_LAYERS = TargetModules.regex(".*");

    public BitFitConfig {
        modulesToSave = modulesToSave == null ? List.of() : List.copyOf(modulesToSave);
    }

    @Override
    public String peftType() {
        return PEFT_TYPE;
    }

    @Override
    public Injection inject(Module model, String headPath) {
        return BitFitModel.inject(model, headPath, this);
    }

    private static final Set<String> KNOWN = Set.of("peft_type", "target_modules", "exclude_modules",
            "layers_to_transform", "modules_to_save", "base_model_name_or_path", "revision", "task_type",
            "inference_mode");

    public static BitFitConfig fromJson(JsonNode o) {
        ConfigJson.requireType(o, PEFT_TYPE);
        ConfigJson.warnUnknown(o, KNOWN);
        return new BitFitConfig(ConfigJson.targets(o), ConfigJson.stringsOrNull(o, "modules_to_save"));
    }

    @Override
    public Map<String, Object> toJson() {
        Map<String, Object> m = ConfigJson.base(PEFT_TYPE, modulesToSave);
        ConfigJson.putTargets(m, targetModules);
        return m;
    }
}
