package org.peft4j.tuners.vpt;

import org.peft4j.nn.HookedBlock;
import org.peft4j.nn.Module;
import org.peft4j.tuners.Blocks;
import org.peft4j.tuners.Injection;

import java.util.List;
import java.util.Map;

/**
 * VPT's injection rule: the first chosen block inserts its prompt; with deep prompts every later
 * chosen block replaces the prompt tokens with its own.
 */
public final class VptModel {

    private VptModel() {}

    static Injection inject(Module model, VptConfig config) {
        Map<String, HookedBlock> blocks = Blocks.select(model, config.deep() ? config.layers() : List.of(0));
        Injection injection = new Injection();
        boolean first = true;
        for (Map.Entry<String, HookedBlock> e : blocks.entrySet()) {
            var hooks = e.getValue().blockHooks();
            injection.place(e.getKey(), hooks.tokens(), new PromptTokens(hooks, config, first));
            first = false;
        }
        return injection;
    }
}
