package org.peft4j.tuners;

import org.peft4j.nn.HookedBlock;
import org.peft4j.nn.Module;

import java.util.LinkedHashMap;
import java.util.List;

/** Block selection for the tuners that hook whole blocks (adapters, prompts, prefixes). */
public final class Blocks {

    private Blocks() {}

    /** The model's hooked blocks by path, in order: all of them, or those whose index is in {@code layers}. */
    public static LinkedHashMap<String, HookedBlock> select(Module model, List<Integer> layers) {
        LinkedHashMap<String, HookedBlock> all = model.modulesOfType(HookedBlock.class);
        if (all.isEmpty()) {
            throw new IllegalArgumentException(model.getClass().getSimpleName()
                    + " has no transformer blocks with hook points (prompts, prefixes and adapters need them)");
        }
        LinkedHashMap<String, HookedBlock> out = new LinkedHashMap<>();
        all.forEach((path, b) -> {
            if (layers == null || layers.contains(b.blockHooks().index())) {
                out.put(path, b);
            }
        });
        if (out.isEmpty()) {
            throw new IllegalArgumentException("layers_to_transform " + layers + " selects none of the "
                    + all.size() + " blocks (indices 0.." + (all.size() - 1) + ")");
        }
        return out;
    }
}
