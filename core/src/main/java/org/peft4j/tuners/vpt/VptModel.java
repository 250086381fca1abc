package org.peft4j.tuners.vpt;

import org.peft4j.nn.HookedBlock;
import org.peft4j.nn.Module;
import org.peft4j.tuners.Blocks;
import org.peft4j.tuners.Injection;

import java.util.List;
import java.util.Map;

/**
 * VPT's injection rule: the first chosen block inserts its prompt; with deep prompts every later
 * chosen block replaces the prompt tokens with its own. A block that takes no tokens (SAM's
 * encoder) gets its deep prompt as keys and values ({@link PromptKeyValues}); a shallow prompt has
 * no place there and is refused.
 */
public final class VptModel {

    private VptModel() {}

    static Injection inject(Module model, VptConfig config) {
        Map<String, HookedBlock> blocks = Blocks.select(model, config.deep() ? config.layers() : List.of(0));
        Injection injection = new Injection();
        boolean first = true;
        for (Map.Entry<String, HookedBlock> e : blocks.entrySet()) {
            HookedBlock block = e.getValue();
            var hooks = block.blockHooks();
            if (block.takesTokens()) {
                injection.place(e.getKey(), hooks.tokens(), new PromptTokens(hooks, config, first));
            } else if (config.deep()) {
                injection.place(e.getKey(), hooks.keyValues(), new PromptKeyValues(block, config));
            } else {
                throw new IllegalArgumentException("block '" + e.getKey() + "' takes no prompt tokens (a token grid): "
                        + "use deep prompts, which reach its attention as keys and values");
            }
            first = false;
        }
        return injection;
    }
}
