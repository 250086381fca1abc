package org.peft4j.tuners.bitfit;

import org.peft4j.nn.Module;
import org.peft4j.nn.WeightedLayer;
import org.peft4j.tuners.Injection;

import java.util.Map;

/** BitFit's injection rule: a {@link BiasDelta} on every targeted layer that has a bias. */
public final class BitFitModel {

    private BitFitModel() {}

    static Injection inject(Module model, String headPath, BitFitConfig config) {
        Map<String, WeightedLayer> layers = config.targetModules().select(model, WeightedLayer.class, headPath,
                config.modulesToSave());
        Injection injection = new Injection();
        layers.forEach((path, layer) -> {
            if (layer.bias() != null) {
                injection.place(path, layer.hooks(), new BiasDelta(layer));
            }
        });
        if (injection.isEmpty()) {
            throw new IllegalArgumentException("none of the " + layers.size() + " targeted layers has a bias; "
                    + "BitFit has nothing to train");
        }
        return injection;
    }
}
