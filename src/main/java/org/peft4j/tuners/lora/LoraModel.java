package org.peft4j.tuners.lora;

import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.Module;
import org.peft4j.peft.TargetModules;

import java.util.LinkedHashMap;
import java.util.Map;

/** LoRA's injection rule: a {@link LoraAdapter} on every targeted {@link LinearLayer}. */
public final class LoraModel {

    private LoraModel() {}

    /**
     * Attaches adapter {@code name} to the linear layers {@code config} targets and returns them by
     * path. Fails, naming the candidates, when nothing matches: a silent no-op would train only the head.
     */
    public static Map<String, LoraAdapter> inject(Module model, String headPath, LoraConfig config, String name) {
        Map<String, LinearLayer> linears = model.modulesOfType(LinearLayer.class);
        Map<String, LoraAdapter> out = new LinkedHashMap<>();
        for (Map.Entry<String, LinearLayer> e : linears.entrySet()) {
            String path = e.getKey();
            if (!config.targetModules().matches(path, headPath)
                    || TargetModules.matchesName(config.modulesToSave(), path)) {
                continue;
            }
            LinearLayer layer = e.getValue();
            LoraAdapter adapter = new LoraAdapter(layer.inFeatures(), layer.outFeatures(), config.rankFor(path),
                    config.scalingFor(path), config.loraDropout(), fusedSlices(config, path), config.init());
            out.put(path, adapter);
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("target modules " + describe(config) + " match no linear layer; "
                    + "linear layers are e.g. " + linears.keySet().stream().limit(8).toList());
        }
        out.forEach((path, adapter) -> linears.get(path).addAdapter(name, adapter));
        return out;
    }

    /** enable_lora applies to fused qkv layers only; other targets get a plain LoRA. */
    private static java.util.List<Boolean> fusedSlices(LoraConfig config, String path) {
        return config.enableLora() != null && path.endsWith("qkv") ? config.enableLora() : null;
    }

    private static String describe(LoraConfig config) {
        return config.targetModules().regex() != null ? "'" + config.targetModules().regex() + "'"
                : config.targetModules().names().toString();
    }
}
