package org.peft4j.tuners.vpt;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.Dropout;
import org.peft4j.nn.BlockHooks;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.Hook;
import org.peft4j.nn.HookedBlock;
import org.peft4j.nn.KeyValueHook;

import java.util.Map;

/**
 * A deep visual prompt for a block that cannot take extra tokens (SAM's windowed encoder): the
 * prompt P {@code [p, d]} (initialised as {@link PromptTokens}) becomes the keys and values the
 * block's own norm and projections make of it ({@link HookedBlock#promptKeyValues}), prepended in
 * every window. A deep prompt's outputs are discarded at the next block, so on the image tokens this
 * is VPT-deep exactly; the parameter has VPT's name, so the adapter file is the same.
 */
final class PromptKeyValues implements KeyValueHook {

    private final HookedBlock block;
    private final int length;
    private final float dropout;
    private final Parameter prompt;

    PromptKeyValues(HookedBlock block, VptConfig config) {
        BlockHooks hooks = block.blockHooks();
        this.block = block;
        this.length = config.promptLength();
        this.dropout = (float) config.dropout();
        float bound = (float) Math.sqrt(6.0 / (hooks.tokenFanIn() + hooks.dim()));
        prompt = Hook.parameter("vpt_prompt", new Shape(length, hooks.dim()), (m, s, t) -> m.randomUniform(-bound, bound, s, t));
    }

    @Override
    public Map<String, Parameter> parameters() {
        return Map.of("vpt_prompt", prompt);
    }

    @Override
    public NDList prefixes(NDArray h, ForwardContext ctx) {
        NDArray p = prompt.getArray().expandDims(0);
        if (ctx.training() && dropout > 0) {
            p = Dropout.dropout(p, dropout, true).singletonOrThrow();
        }
        NDList kv = block.promptKeyValues(p, ctx); // [1, p, d] each, the same for every image
        long b = h.getShape().get(0);
        long d = h.getShape().get(2);
        return new NDList(kv.get(0).broadcast(b, length, d), kv.get(1).broadcast(b, length, d));
    }
}
