package org.peft4j.models.text;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Activation;
import org.peft4j.nn.BlockHooks;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.HookedBlock;
import org.peft4j.nn.LayerNormLayer;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.Module;
import org.peft4j.nn.Ops;

/**
 * One BERT/RoBERTa layer (post-norm): {@code x = LN(x + dense(attn(x)))}, then
 * {@code x = LN(x + dense(gelu(intermediate(x))))}. The residual-branch hooks see each branch's
 * output before the residual sum and the norm, where Houlsby's adapters sit.
 */
final class BertLayer extends Module implements HookedBlock {

    private final TextAttention attention;
    private final LayerNormLayer attentionNorm;
    private final LinearLayer intermediate;
    private final LinearLayer output;
    private final LayerNormLayer outputNorm;
    private final boolean tanhGelu;
    private final BlockHooks hooks;

    BertLayer(TextConfig c, int index) {
        attention = addModule("", new TextAttention(c, null, "attention.self.", "attention.output.dense"));
        attentionNorm = addModule("attention.output.LayerNorm", new LayerNormLayer(c.hiddenSize(), c.layerNormEps()));
        intermediate = addModule("intermediate.dense", new LinearLayer(c.hiddenSize(), c.intermediateSize(), true));
        output = addModule("output.dense", new LinearLayer(c.intermediateSize(), c.hiddenSize(), true));
        outputNorm = addModule("output.LayerNorm", new LayerNormLayer(c.hiddenSize(), c.layerNormEps()));
        tanhGelu = c.tanhGelu();
        hooks = new BlockHooks(index, c.hiddenSize(), c.numHeads(), 1, c.hiddenSize());
    }

    @Override
    public BlockHooks blockHooks() {
        return hooks;
    }

    /** Extra tokens would break the padding mask: token hooks do not run here. */
    @Override
    public boolean takesTokens() {
        return false;
    }

    /** Post-norm: the attention sees the block input itself. */
    @Override
    public NDList promptKeyValues(NDArray tokens, ForwardContext ctx) {
        return attention.keyValuesOf(tokens);
    }

    @Override
    public NDArray forward(NDArray x, ForwardContext ctx) {
        return forward(x, null, ctx);
    }

    NDArray forward(NDArray x, NDArray mask, ForwardContext ctx) {
        return freeingIntermediates(() -> compute(x, mask, ctx));
    }

    private NDArray compute(NDArray x, NDArray mask, ForwardContext ctx) {
        NDArray a = attention.attend(x, mask, null, -1, hooks.keyValuePrefixes(x, ctx), ctx);
        x = attentionNorm.forward(x.add(BlockHooks.applyBranch(hooks.attentionBranch(), x, a, ctx)), ctx);
        NDArray u = intermediate.forward(x, ctx);
        NDArray m = output.forward(tanhGelu ? Ops.geluTanh(u) : Activation.gelu(u), ctx);
        return outputNorm.forward(x.add(BlockHooks.applyBranch(hooks.mlpBranch(), x, m, ctx)), ctx);
    }
}
