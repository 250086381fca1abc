package org.peft4j.tuners.ssf;

import org.peft4j.nn.Module;
import org.peft4j.nn.WeightedLayer;
import org.peft4j.tuners.Injection;

/** SSF's injection rule: a {@link SsfLayer} after every targeted layer with weights. */
public final class SsfModel {

    private SsfModel() {}

    static Injection inject(Module model, String headPath, SsfConfig config) {
        Injection injection = new Injection();
        config.targetModules().select(model, WeightedLayer.class, headPath, config.modulesToSave())
                .forEach((path, layer) -> injection.place(path, layer.hooks(), new SsfLayer(layer, config.initStd())));
        return injection;
    }
}
