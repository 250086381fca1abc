package org.peft4j.tuners.vpt;

import com.fasterxml.jackson.databind.JsonNode;
import org.peft4j.nn.Module;
import org.peft4j.tuners.ConfigJson;
import org.peft4j.tuners.Injection;
import org.peft4j.tuners.TunerConfig;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Visual prompt tuning settings (Jia et al. 2022): learned tokens inserted after the leading
 * special tokens (ViT: the class token).
 *
 * @param promptLength p, tokens per prompt
 * @param deep         false: shallow, one prompt before the first block; true: deep, a fresh prompt at
 *                     every block replacing the previous block's prompt tokens
 * @param dropout      dropout on the prompt tokens while training (VPT's prompt dropout)
 * @param layers       for deep prompts, the block indices that get one (null: all)
 */
public record VptConfig(int promptLength, boolean deep, double dropout, List<Integer> layers,
                        List<String> modulesToSave) implements TunerConfig {

    public static final String PEFT_TYPE = "VISUAL_PROMPT_TUNING";

    public VptConfig {
        if (promptLength <= 0) {
            throw new IllegalArgumentException("prompt length must be positive, got " + promptLength);
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("prompt dropout must be in [0, 1), got " + dropout);
        }
        if (!deep && layers != null) {
            throw new IllegalArgumentException("layers_to_transform applies to deep prompts; a shallow prompt goes before block 0");
        }
        layers = layers == null ? null : List.copyOf(layers);
        modulesToSave = modulesToSave == null ? List.of() : List.copyOf(modulesToSave);
    }

    @Override
    public String peftType() {
        return PEFT_TYPE;
    }

    @Override
    public Injection inject(Module model, String headPath) {
        return VptModel.inject(model, this);
    }

    private static final Set<String> KNOWN = Set.of("peft_type", "num_virtual_tokens", "deep", "prompt_dropout",
            "layers_to_transform", "modules_to_save", "base_model_name_or_path", "revision", "task_type",
            "inference_mode");

    public static VptConfig fromJson(JsonNode o) {
        ConfigJson.requireType(o, PEFT_TYPE);
        ConfigJson.warnUnknown(o, KNOWN);
        return new VptConfig(o.path("num_virtual_tokens").asInt(10), o.path("deep").asBoolean(false),
                o.path("prompt_dropout").asDouble(0), ConfigJson.layers(o), ConfigJson.stringsOrNull(o, "modules_to_save"));
    }

    @Override
    public Map<String, Object> toJson() {
        Map<String, Object> m = ConfigJson.base(PEFT_TYPE, modulesToSave);
        m.put("num_virtual_tokens", promptLength);
        m.put("deep", deep);
        m.put("prompt_dropout", dropout);
        m.put("layers_to_transform", layers);
        return m;
    }
}
