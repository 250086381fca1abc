package org.peft4j.models.text;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import org.peft4j.nn.BlockHooks;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.HookedBlock;
import org.peft4j.nn.LayerNormLayer;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.Module;
import org.peft4j.nn.Ops;

/**
 * One GPT-2 block (pre-norm): {@code x + c_proj(attn(ln_1 x))}, then {@code x + mlp(ln_2 x)} with
 * GELU's tanh form. Checkpoints store the linears as Conv1D {@code [in, out]}; the loader transposes
 * them, so here they are ordinary {@code [out, in]} linears that LoRA can wrap.
 */
final class Gpt2Block extends Module implements HookedBlock {

    private final LayerNormLayer ln1;
    private final TextAttention attn;
    private final LayerNormLayer ln2;
    private final LinearLayer fc;
    private final LinearLayer proj;
    private final boolean tanhGelu;
    private final BlockHooks hooks;

    Gpt2Block(TextConfig c, int index) {
        ln1 = addModule("ln_1", new LayerNormLayer(c.hiddenSize(), c.layerNormEps()));
        attn = addModule("", new TextAttention(c, "attn.c_attn", null, "attn.c_proj"));
        ln2 = addModule("ln_2", new LayerNormLayer(c.hiddenSize(), c.layerNormEps()));
        fc = addModule("mlp.c_fc", new LinearLayer(c.hiddenSize(), c.intermediateSize(), true));
        proj = addModule("mlp.c_proj", new LinearLayer(c.intermediateSize(), c.hiddenSize(), true));
        tanhGelu = c.tanhGelu();
        hooks = new BlockHooks(index, c.hiddenSize(), c.numHeads(), 0, c.hiddenSize());
    }

    @Override
    public BlockHooks blockHooks() {
        return hooks;
    }

    /** Extra tokens would break the attention mask and the cache: token hooks do not run here. */
    @Override
    public boolean takesTokens() {
        return false;
    }

    @Override
    public NDList promptKeyValues(NDArray tokens, ForwardContext ctx) {
        return attn.keyValuesOf(ln1.forward(tokens, ctx));
    }

    @Override
    public NDArray forward(NDArray x, ForwardContext ctx) {
        return forward(x, null, null, -1, ctx);
    }

    NDArray forward(NDArray x, NDArray mask, KvCache cache, int layer, ForwardContext ctx) {
        return freeingIntermediates(() -> compute(x, mask, cache, layer, ctx));
    }

    private NDArray compute(NDArray x, NDArray mask, KvCache cache, int layer, ForwardContext ctx) {
        NDArray h = ln1.forward(x, ctx);
        NDArray a = attn.attend(h, mask, cache, layer, hooks.keyValuePrefixes(h, ctx), ctx);
        x = x.add(BlockHooks.applyBranch(hooks.attentionBranch(), x, a, ctx));
        NDArray u = fc.forward(ln2.forward(x, ctx), ctx);
        NDArray m = proj.forward(tanhGelu ? Ops.geluTanh(u) : ai.djl.nn.Activation.gelu(u), ctx);
        return x.add(BlockHooks.applyBranch(hooks.mlpBranch(), x, m, ctx));
    }
}
