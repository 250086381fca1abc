package org.peft4j.tuners.adapter;

import org.peft4j.nn.BlockHooks;
import org.peft4j.nn.Module;
import org.peft4j.tuners.Blocks;
import org.peft4j.tuners.Injection;

/** The adapters' injection rule: bottleneck adapters on the residual branches each style names. */
public final class BottleneckAdapterModel {

    private BottleneckAdapterModel() {}

    static Injection inject(Module model, AdapterConfig c) {
        Injection injection = new Injection();
        Blocks.select(model, c.layers()).forEach((path, block) -> {
            BlockHooks h = block.blockHooks();
            switch (c.style()) {
                case HOULSBY -> {
                    injection.place(path, h.attentionBranch(), new BottleneckAdapter("adapter_attention", h.dim(), c, false));
                    injection.place(path, h.mlpBranch(), new BottleneckAdapter("adapter_mlp", h.dim(), c, false));
                }
                case PFEIFFER -> injection.place(path, h.mlpBranch(), new BottleneckAdapter("adapter_mlp", h.dim(), c, false));
                case ADAPTFORMER -> injection.place(path, h.mlpBranch(), new BottleneckAdapter("adapter_mlp", h.dim(), c, true));
            }
        });
        return injection;
    }
}
