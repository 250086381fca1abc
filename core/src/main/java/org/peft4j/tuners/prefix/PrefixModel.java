package org.peft4j.tuners.prefix;

import org.peft4j.nn.BlockHooks;
import org.peft4j.nn.HookedBlock;
import org.peft4j.nn.Module;
import org.peft4j.tuners.Blocks;
import org.peft4j.tuners.Injection;

import java.util.Map;

/**
 * Prefix tuning's injection rule: a {@link PrefixKeyValues} on every chosen block's attention;
 * with a projection, one shared {@link PrefixEncoder} whose output they slice.
 */
public final class PrefixModel {

    private PrefixModel() {}

    static Injection inject(Module model, PrefixConfig config) {
        Map<String, HookedBlock> blocks = Blocks.select(model, config.layers());
        Injection injection = new Injection();
        PrefixEncoder encoder = null;
        if (config.projection() > 0) {
            int dim = blocks.values().iterator().next().blockHooks().dim();
            encoder = new PrefixEncoder(config.numVirtualTokens(), dim, config.projection(), blocks.size());
            encoder.parameters().forEach(injection::share);
        }
        int slot = 0;
        for (Map.Entry<String, HookedBlock> e : blocks.entrySet()) {
            BlockHooks hooks = e.getValue().blockHooks();
            injection.place(e.getKey(), hooks.keyValues(), new PrefixKeyValues(hooks.dim(), config, encoder, slot++));
        }
        return injection;
    }
}
