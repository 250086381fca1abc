package org.peft4j.tuners.prefix;

import com.fasterxml.jackson.databind.JsonNode;
import org.peft4j.nn.Module;
import org.peft4j.tuners.ConfigJson;
import org.peft4j.tuners.Injection;
import org.peft4j.tuners.TunerConfig;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Prefix tuning settings (Li &amp; Liang 2021, as in UniPELT): learned keys and values prepended to
 * the self-attention of every chosen block.
 *
 * @param numVirtualTokens L, prefix tokens per block
 * @param projection       0: the prefixes are parameters; m &gt; 0: they are computed, as PEFT's
 *                         {@code prefix_projection}, by {@code E [L, d] → Linear(d, m) → tanh → Linear(m, 2·blocks·d)}
 *                         while training, and saved as the prefixes they make
 * @param initStd          direct prefixes start at N(0, initStd²)
 * @param layers           block indices that get prefixes (null: all)
 */
public record PrefixConfig(int numVirtualTokens, int projection, double initStd, List<Integer> layers,
                           List<String> modulesToSave) implements TunerConfig {

    public static final String PEFT_TYPE = "VISION_PREFIX_TUNING";

    public PrefixConfig {
        if (numVirtualTokens <= 0) {
            throw new IllegalArgumentException("prefix length must be positive, got " + numVirtualTokens);
        }
        if (projection < 0) {
            throw new IllegalArgumentException("projection hidden size must be >= 0, got " + projection);
        }
        if (!(initStd >= 0)) {
            throw new IllegalArgumentException("init_std must be >= 0, got " + initStd);
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
        return PrefixModel.inject(model, this);
    }

    /** The file holds the prefixes themselves; a re-parameterised adapter reloads as direct prefixes. */
    @Override
    public TunerConfig savedConfig() {
        return projection == 0 ? this : new PrefixConfig(numVirtualTokens, 0, initStd, layers, modulesToSave);
    }

    private static final Set<String> KNOWN = Set.of("peft_type", "num_virtual_tokens", "prefix_projection",
            "encoder_hidden_size", "init_std", "layers_to_transform", "modules_to_save", "base_model_name_or_path",
            "revision", "task_type", "inference_mode");

    public static PrefixConfig fromJson(JsonNode o) {
        ConfigJson.requireType(o, PEFT_TYPE);
        ConfigJson.warnUnknown(o, KNOWN);
        int projection = o.path("prefix_projection").asBoolean(false) ? o.path("encoder_hidden_size").asInt(0) : 0;
        return new PrefixConfig(o.path("num_virtual_tokens").asInt(10), projection, o.path("init_std").asDouble(0.02),
                ConfigJson.layers(o), ConfigJson.stringsOrNull(o, "modules_to_save"));
    }

    @Override
    public Map<String, Object> toJson() {
        Map<String, Object> m = ConfigJson.base(PEFT_TYPE, modulesToSave);
        m.put("num_virtual_tokens", numVirtualTokens);
        m.put("prefix_projection", projection > 0);
        m.put("encoder_hidden_size", projection > 0 ? projection : null);
        m.put("init_std", initStd);
        m.put("layers_to_transform", layers);
        return m;
    }
}
