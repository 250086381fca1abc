package org.peft4j.tuners.mopeft;

import com.fasterxml.jackson.databind.JsonNode;
import org.peft4j.nn.Module;
import org.peft4j.tuners.ConfigJson;
import org.peft4j.tuners.Injection;
import org.peft4j.tuners.TunerConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * MoPEFT (Sahay &amp; Savakis 2024), a mixture of PEFT submodules in every block, each with its own
 * UniPELT gate {@code g = mean over the tokens of σ(x·w + c)}, one scalar per example, block and
 * submodule (independent sigmoids): LoRA on q and v (one gate each; the gate replaces α/r), prefix
 * tuning (keys and values times the gate), and a bottleneck adapter after the MLP
 * ({@code out = h_F + g·Adapter(LN(h_F + h_in))}), and optionally deep visual prompts (their keys and
 * values through the block's norm and projections, times the gate). An optional central gate
 * (softmax over the submodules, per image and block) scales every submodule's gate.
 *
 * @param submodules  any of lora, prefix, adapter, vpt (default: the first three, as the paper)
 * @param rank        LoRA rank
 * @param prefixLength prefix tokens per block, and prompt tokens per block for vpt
 * @param bottleneck  adapter width
 * @param layers      block indices (null: all)
 */
public record MopeftConfig(List<String> submodules, int rank, int prefixLength, int bottleneck, boolean central,
                           List<Integer> layers, List<String> modulesToSave) implements TunerConfig {

    public static final String PEFT_TYPE = "MOPEFT";
    /** The default mixture. */
    public static final List<String> SUBMODULES = List.of("lora", "prefix", "adapter");
    /** Every submodule that may join it. */
    public static final List<String> ALL_SUBMODULES = List.of("lora", "prefix", "adapter", "vpt");

    public MopeftConfig {
        submodules = List.copyOf(submodules);
        if (submodules.isEmpty()) {
            throw new IllegalArgumentException("MoPEFT needs at least one submodule of " + SUBMODULES);
        }
        for (String s : submodules) {
            if (!ALL_SUBMODULES.contains(s)) {
                throw new IllegalArgumentException("unknown MoPEFT submodule '" + s + "'; choose from " + ALL_SUBMODULES);
            }
        }
        if (submodules.stream().distinct().count() != submodules.size()) {
            throw new IllegalArgumentException("MoPEFT submodules repeat: " + submodules);
        }
        if (rank <= 0 || prefixLength <= 0 || bottleneck <= 0) {
            throw new IllegalArgumentException("rank, prefix length and bottleneck must be positive");
        }
        layers = layers == null ? null : List.copyOf(layers);
        modulesToSave = modulesToSave == null ? List.of() : List.copyOf(modulesToSave);
    }

    /** The same mixture with {@code modules_to_save} replaced. */
    public MopeftConfig withModulesToSave(List<String> modules) {
        return new MopeftConfig(submodules, rank, prefixLength, bottleneck, central, layers, modules);
    }

    public boolean has(String submodule) {
        return submodules.contains(submodule);
    }

    @Override
    public String peftType() {
        return PEFT_TYPE;
    }

    @Override
    public Injection inject(Module model, String headPath) {
        return MopeftModel.inject(model, this);
    }

    private static final Set<String> KNOWN = Set.of("peft_type", "submodules", "r", "num_virtual_tokens",
            "bottleneck_size", "central_gate", "layers_to_transform", "modules_to_save", "base_model_name_or_path", "revision",
            "task_type", "inference_mode");

    public static MopeftConfig fromJson(JsonNode o) {
        ConfigJson.requireType(o, PEFT_TYPE);
        ConfigJson.warnUnknown(o, KNOWN);
        List<String> subs = new ArrayList<>();
        o.path("submodules").forEach(n -> subs.add(n.asText()));
        return new MopeftConfig(subs.isEmpty() ? SUBMODULES : subs, o.path("r").asInt(8),
                o.path("num_virtual_tokens").asInt(10), o.path("bottleneck_size").asInt(16),
                o.path("central_gate").asBoolean(false), ConfigJson.layers(o),
                ConfigJson.stringsOrNull(o, "modules_to_save"));
    }

    @Override
    public Map<String, Object> toJson() {
        Map<String, Object> m = ConfigJson.base(PEFT_TYPE, modulesToSave);
        m.put("submodules", submodules);
        m.put("r", rank);
        m.put("num_virtual_tokens", prefixLength);
        m.put("bottleneck_size", bottleneck);
        m.put("central_gate", central);
        m.put("layers_to_transform", layers);
        return m;
    }
}
