package org.peft4j.tuners.mlae;

import org.peft4j.nn.HookedBlock;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.Module;
import org.peft4j.tuners.Injection;
import org.peft4j.tuners.TargetModules;

import java.util.Map;

/**
 * MLAE's injection rule: a {@link MlaeLayer} on every targeted linear layer, each with the drop
 * rate its block's depth gets from the schedule (the block index is the path's first number).
 */
public final class MlaeModel {

    private MlaeModel() {}

    static Injection inject(Module model, String headPath, MlaeConfig config) {
        Map<String, LinearLayer> targets = config.targetModules().select(model, LinearLayer.class, headPath,
                config.modulesToSave());
        // The schedule runs over the model's blocks (not just the targeted ones); without blocks, over the targets.
        int blocks = model.modulesOfType(HookedBlock.class).size();
        int layers = blocks > 0 ? blocks
                : 1 + targets.keySet().stream().mapToInt(p -> Math.max(0, TargetModules.layerIndex(p))).max().orElse(0);
        Injection injection = new Injection();
        targets.forEach((path, layer) -> {
            double p = config.schedule().rate(config.dropRate(), Math.max(0, TargetModules.layerIndex(path)), layers);
            injection.place(path, layer.hooks(), new MlaeLayer(layer, config, p));
        });
        return injection;
    }
}
