package org.peft4j.tuners.ia3;

import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.Module;
import org.peft4j.tuners.Injection;

/** (IA)³'s injection rule: an {@link Ia3Layer} on every targeted linear layer, input-side on feed-forward ones. */
public final class Ia3Model {

    private Ia3Model() {}

    static Injection inject(Module model, String headPath, Ia3Config config) {
        Injection injection = new Injection();
        config.targetModules().select(model, LinearLayer.class, headPath, config.modulesToSave())
                .forEach((path, layer) -> injection.place(path, layer.hooks(),
                        new Ia3Layer(layer, config.isFeedforward(path), config.initIa3Weights())));
        return injection;
    }
}
