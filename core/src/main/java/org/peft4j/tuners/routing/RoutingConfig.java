package org.peft4j.tuners.routing;

import com.fasterxml.jackson.databind.JsonNode;
import org.peft4j.nn.HookedBlock;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.Module;
import org.peft4j.nn.VisualInputs;
import org.peft4j.tuners.ConfigJson;
import org.peft4j.tuners.Injection;
import org.peft4j.tuners.TargetModules;
import org.peft4j.tuners.TunerConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The vision-language tuners of METHODS.md §3 on a language model inside a
 * {@link VisualInputs.Host}: LoRA or bottleneck adapters with a {@link Routing} in the bottleneck,
 * or the gated cross-attention baseline.
 *
 * <p>A routed LoRA is saved as a PEFT LoRA (same keys and shapes, {@code peft_type} LORA) with
 * {@code routing} added, so the routing travels with the weights; PEFT itself would ignore the key
 * and run it unrouted. On a fused projection ({@code enable_lora}) each enabled slice has its own r
 * rows of A (loralib's MergedLinear layout).
 *
 * @param targetModules LoRA's targets (e.g. {@code text\..*\.(query|value)}, or {@code c_attn} with enable_lora)
 * @param enableLora    the q/k/v slices LoRA adapts on a fused layer ({@code [true, false, true]}), or null
 * @param bottleneck    the adapters' width m
 * @param activation    the adapters' φ: relu or gelu
 */
public record RoutingConfig(Method method, Routing routing, int r, double loraAlpha, double loraDropout,
                            TargetModules targetModules, List<Boolean> enableLora, int bottleneck, String activation,
                            List<String> modulesToSave) implements TunerConfig {

    public static final String CROSS_ATTENTION_PEFT_TYPE = "GATED_CROSS_ATTENTION";
    public static final String ADAPTER_PEFT_TYPE = "BOTTLENECK_ADAPTER";

    /** The tuner that carries the routing. */
    public enum Method {
        LORA("lora"), ADAPTER("adapter"), CROSS_ATTN("cross-attn");

        public final String cliName;

        Method(String cliName) {
            this.cliName = cliName;
        }

        public static Method of(String name) {
            for (Method m : values()) {
                if (m.cliName.equals(name)) {
                    return m;
                }
            }
            throw new IllegalArgumentException("unknown method '" + name + "'; one of lora, adapter, cross-attn");
        }
    }

    public RoutingConfig {
        if (r <= 0 && method != Method.ADAPTER) {
            throw new IllegalArgumentException("r must be positive, got " + r);
        }
        if (bottleneck <= 0 && method == Method.ADAPTER) {
            throw new IllegalArgumentException("the adapter bottleneck must be positive, got " + bottleneck);
        }
        if (method == Method.CROSS_ATTN && routing != Routing.NONE) {
            throw new IllegalArgumentException("cross-attention is the unrouted baseline: --routing must be none");
        }
        if (!activation.equals("relu") && !activation.equals("gelu")) {
            throw new IllegalArgumentException("activation must be relu or gelu, got '" + activation + "'");
        }
        if (loraDropout < 0 || loraDropout >= 1) {
            throw new IllegalArgumentException("dropout must be in [0, 1), got " + loraDropout);
        }
        modulesToSave = List.copyOf(modulesToSave);
        enableLora = enableLora == null ? null : List.copyOf(enableLora);
    }

    @Override
    public String peftType() {
        return switch (method) {
            case LORA -> "LORA";
            case ADAPTER -> ADAPTER_PEFT_TYPE;
            case CROSS_ATTN -> CROSS_ATTENTION_PEFT_TYPE;
        };
    }

    @Override
    public List<String> modulesToSave() {
        return modulesToSave;
    }

    @Override
    public Injection inject(Module model, String headPath) {
        if (!(model instanceof VisualInputs.Host host)) {
            throw new IllegalArgumentException(method.cliName + (routing != Routing.NONE ? " with routing" : "")
                    + " needs a vision-language model (an image encoder feeding a language model)");
        }
        String text = host.textPath() + ".";
        Injection injection = new Injection();
        switch (method) {
            case LORA -> {
                var targets = targetModules.select(model, LinearLayer.class, headPath, modulesToSave);
                targets.forEach((path, layer) -> {
                    boolean fused = path.endsWith("c_attn") || path.endsWith("qkv");
                    if (enableLora != null && !fused) {
                        throw new IllegalArgumentException("enable_lora applies to fused projections (c_attn, qkv), not " + path);
                    }
                    injection.place(path, layer.hooks(), new RoutedLora(layer, routing, r, loraAlpha, loraDropout,
                            fused && enableLora != null ? toArray(enableLora) : null));
                });
            }
            case ADAPTER -> textBlocks(model, text).forEach((path, block) -> {
                var h = block.blockHooks();
                boolean gelu = activation.equals("gelu");
                injection.place(path, h.attentionBranch(), new RoutedAdapter("adapter_attention", h.dim(), bottleneck, routing, gelu));
                injection.place(path, h.mlpBranch(), new RoutedAdapter("adapter_mlp", h.dim(), bottleneck, routing, gelu));
            });
            case CROSS_ATTN -> textBlocks(model, text).forEach((path, block) ->
                    injection.place(path, block.blockHooks().attentionBranch(),
                            new GatedCrossAttention(block.blockHooks().dim(), host.visualWidth(), r)));
        }
        return injection;
    }

    private static Map<String, HookedBlock> textBlocks(Module model, String prefix) {
        Map<String, HookedBlock> out = new java.util.LinkedHashMap<>();
        model.modulesOfType(HookedBlock.class).forEach((path, b) -> {
            if (path.startsWith(prefix)) {
                out.put(path, b);
            }
        });
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no transformer blocks under '" + prefix + "'");
        }
        return out;
    }

    private static boolean[] toArray(List<Boolean> list) {
        boolean[] out = new boolean[list.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = list.get(i);
        }
        return out;
    }

    @Override
    public Map<String, Object> toJson() {
        Map<String, Object> m = new TreeMap<>();
        m.put("peft_type", peftType());
        m.put("routing", routing.configName);
        m.put("modules_to_save", modulesToSave.isEmpty() ? null : modulesToSave);
        m.put("task_type", null);
        m.put("inference_mode", true);
        switch (method) {
            case LORA -> {
                // PEFT's LoRA keys, so the file loads there (unrouted: PEFT drops the routing key)
                m.put("r", r);
                m.put("lora_alpha", ConfigJson.number(loraAlpha));
                m.put("lora_dropout", loraDropout);
                m.put("bias", "none");
                m.put("fan_in_fan_out", false);
                m.put("init_lora_weights", true);
                m.put("use_dora", false);
                m.put("use_rslora", false);
                m.put("rank_pattern", Map.of());
                m.put("alpha_pattern", Map.of());
                if (enableLora != null) {
                    m.put("enable_lora", enableLora);
                }
                ConfigJson.putTargets(m, targetModules);
            }
            case ADAPTER -> {
                m.put("adapter_style", "houlsby");
                m.put("bottleneck", bottleneck);
                m.put("activation", activation);
                m.put("placement", "text");
            }
            case CROSS_ATTN -> {
                m.put("r", r);
                m.put("placement", "text");
            }
        }
        return m;
    }

    /** Whether an adapter_config.json is one of these (a routing key, or the cross-attention type). */
    public static boolean describes(JsonNode o) {
        return o.has("routing") || CROSS_ATTENTION_PEFT_TYPE.equals(o.path("peft_type").asText());
    }

    public static RoutingConfig fromJson(JsonNode o) {
        String type = o.path("peft_type").asText("");
        Routing routing = Routing.of(o.path("routing").asText("none"));
        List<String> toSave = ConfigJson.stringsOrNull(o, "modules_to_save");
        toSave = toSave == null ? List.of() : toSave;
        return switch (type) {
            case "LORA" -> {
                List<Boolean> enable = null;
                if (o.hasNonNull("enable_lora")) {
                    enable = new ArrayList<>();
                    for (JsonNode n : o.get("enable_lora")) {
                        if (!n.isBoolean()) {
                            throw new IllegalArgumentException("enable_lora must be a list of booleans, got " + o.get("enable_lora"));
                        }
                        enable.add(n.asBoolean());
                    }
                }
                if (o.path("use_dora").asBoolean(false) || !o.path("bias").asText("none").equals("none")) {
                    throw new IllegalArgumentException("a routed LoRA supports neither use_dora nor bias training");
                }
                yield new RoutingConfig(Method.LORA, routing, o.path("r").asInt(8), o.path("lora_alpha").asDouble(8),
                        o.path("lora_dropout").asDouble(0), ConfigJson.targets(o), enable, 0, "relu", toSave);
            }
            case ADAPTER_PEFT_TYPE -> new RoutingConfig(Method.ADAPTER, routing, 0, 0, 0, null, null, o.path("bottleneck").asInt(0),
                    o.path("activation").asText("relu").toLowerCase(Locale.ROOT), toSave);
            case CROSS_ATTENTION_PEFT_TYPE -> new RoutingConfig(Method.CROSS_ATTN, routing, o.path("r").asInt(0), 0, 0, null, null, 0,
                    "relu", toSave);
            default -> throw new IllegalArgumentException("peft_type '" + type + "' carries no routing");
        };
    }
}
