package org.peft4j.tuners.lora;

import ai.djl.nn.Parameter;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.Module;
import org.peft4j.tuners.Injection;
import org.peft4j.tuners.TargetModules;

import java.util.List;
import java.util.Map;

/**
 * LoRA's injection rule: a {@link LoraLayer} on every targeted {@link LinearLayer}; with
 * {@code bias="all"} or {@code "lora_only"} the base biases train in place and are saved, under
 * PEFT's keys.
 */
public final class LoraModel {

    private LoraModel() {}

    static Injection inject(Module model, String headPath, LoraConfig config) {
        Map<String, LinearLayer> targets = config.targetModules().select(model, LinearLayer.class, headPath,
                config.modulesToSave());
        if (config.enableLora() != null && targets.keySet().stream().noneMatch(p -> p.endsWith("qkv"))) {
            throw new IllegalArgumentException("enable_lora (--qkv-slices) applies to fused qkv layers, and no target is one: "
                    + targets.keySet().stream().limit(4).toList());
        }
        Injection injection = new Injection();
        targets.forEach((path, layer) -> injection.place(path, layer.hooks(), new LoraLayer(layer,
                config.rankFor(path), config.scalingFor(path), config.loraDropout(), fusedSlices(config, path),
                config.init(), config.useDora())));
        if (config.bias() != LoraConfig.Bias.NONE) {
            // PEFT's rule ("bias" in the name) and its key for a wrapped layer's own bias (base_layer).
            for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
                String key = e.getKey();
                if (!key.endsWith("bias")) {
                    continue;
                }
                String module = key.substring(0, Math.max(0, key.length() - "bias".length() - 1));
                if (TargetModules.matchesName(config.modulesToSave(), module)) {
                    continue; // saved with its module's copy
                }
                boolean wrapped = targets.containsKey(module);
                if (config.bias() == LoraConfig.Bias.ALL || wrapped) {
                    injection.trainBase(wrapped ? module + ".base_layer.bias" : key, e.getValue());
                }
            }
        }
        return injection;
    }

    /** enable_lora applies to fused qkv layers only; other targets get a plain LoRA. */
    private static List<Boolean> fusedSlices(LoraConfig config, String path) {
        return config.enableLora() != null && path.endsWith("qkv") ? config.enableLora() : null;
    }
}
