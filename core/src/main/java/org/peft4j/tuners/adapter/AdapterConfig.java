package org.peft4j.tuners.adapter;

import com.fasterxml.jackson.databind.JsonNode;
import org.peft4j.nn.Module;
import org.peft4j.tuners.ConfigJson;
import org.peft4j.tuners.Injection;
import org.peft4j.tuners.TunerConfig;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Bottleneck adapters: {@code Up(σ(Down h))} on a block's residual branches.
 *
 * @param style      where they go (see {@link Style})
 * @param bottleneck the inner width m
 * @param activation σ: relu or gelu
 * @param scale      s on the adapter's output (AdaptFormer's 0.1; 1 for the sequential styles)
 * @param layers     block indices to adapt, or null for all
 */
public record AdapterConfig(Style style, int bottleneck, String activation, double scale, List<Integer> layers,
                            List<String> modulesToSave) implements TunerConfig {

    public static final String PEFT_TYPE = "BOTTLENECK_ADAPTER";

    /**
     * HOULSBY (Houlsby et al. 2019): sequential, after the attention and after the MLP,
     * {@code h ← h + Up(σ(Down h))}. PFEIFFER (Pfeiffer et al. 2021): the same after the MLP only.
     * ADAPTFORMER (Chen et al. 2022): parallel to the MLP, reading the block stream x:
     * {@code x ← x + MLP(LN x) + s·Up(σ(Down x))}.
     */
    public enum Style {
        HOULSBY, PFEIFFER, ADAPTFORMER;

        public String json() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Style parse(String s) {
            try {
                return valueOf(s.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("adapter style must be houlsby, pfeiffer or adaptformer, got '" + s + "'");
            }
        }
    }

    public AdapterConfig {
        if (bottleneck <= 0) {
            throw new IllegalArgumentException("bottleneck must be positive, got " + bottleneck);
        }
        if (!activation.equals("relu") && !activation.equals("gelu")) {
            throw new IllegalArgumentException("activation must be relu or gelu, got '" + activation + "'");
        }
        if (!Double.isFinite(scale)) {
            throw new IllegalArgumentException("scale must be finite, got " + scale);
        }
        layers = layers == null ? null : List.copyOf(layers);
        modulesToSave = modulesToSave == null ? List.of() : List.copyOf(modulesToSave);
    }

    /** The style with its usual defaults: ReLU, s = 0.1 for AdaptFormer and 1 otherwise, every block. */
    public static AdapterConfig of(Style style, int bottleneck, List<String> modulesToSave) {
        return new AdapterConfig(style, bottleneck, "relu", style == Style.ADAPTFORMER ? 0.1 : 1.0, null, modulesToSave);
    }

    @Override
    public String peftType() {
        return PEFT_TYPE;
    }

    @Override
    public Injection inject(Module model, String headPath) {
        return BottleneckAdapterModel.inject(model, this);
    }

    private static final Set<String> KNOWN = Set.of("peft_type", "style", "bottleneck", "activation", "scale",
            "layers_to_transform", "modules_to_save", "base_model_name_or_path", "revision", "task_type",
            "inference_mode");

    public static AdapterConfig fromJson(JsonNode o) {
        ConfigJson.requireType(o, PEFT_TYPE);
        ConfigJson.warnUnknown(o, KNOWN);
        Style style = Style.parse(o.path("style").asText("houlsby"));
        return new AdapterConfig(style, o.path("bottleneck").asInt(8), o.path("activation").asText("relu"),
                o.path("scale").asDouble(style == Style.ADAPTFORMER ? 0.1 : 1.0), ConfigJson.layers(o),
                ConfigJson.stringsOrNull(o, "modules_to_save"));
    }

    @Override
    public Map<String, Object> toJson() {
        Map<String, Object> m = ConfigJson.base(PEFT_TYPE, modulesToSave);
        m.put("style", style.json());
        m.put("bottleneck", bottleneck);
        m.put("activation", activation);
        m.put("scale", scale);
        m.put("layers_to_transform", layers);
        return m;
    }
}
