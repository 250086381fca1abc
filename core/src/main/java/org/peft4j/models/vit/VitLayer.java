package org.peft4j.models.vit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Activation;
import org.peft4j.nn.BlockHooks;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.HookedBlock;
import org.peft4j.nn.LayerNormLayer;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.Module;

/**
 * One pre-norm transformer block: {@code x + attn(norm1 x)}, then {@code x + fc2(gelu(fc1(norm2 x)))},
 * with the block hook points: tokens on entry, key/value prefixes for the attention, and both
 * residual branches (each hook sees the branch input x and the branch output).
 */
public final class VitLayer extends Module implements HookedBlock {

    private final LayerNormLayer norm1;
    private final VitAttention attention;
    private final LayerNormLayer norm2;
    private final LinearLayer fc1;
    private final LinearLayer fc2;
    private final BlockHooks hooks;

    VitLayer(VitConfig c, VitNaming naming, int index, long tokenFanIn) {
        norm1 = addModule(naming.norm1, new LayerNormLayer(c.hiddenSize(), c.layerNormEps()));
        // The attention's own linears carry the full path; it adds no path segment of its own.
        attention = addModule("", new VitAttention(c, naming));
        norm2 = addModule(naming.norm2, new LayerNormLayer(c.hiddenSize(), c.layerNormEps()));
        fc1 = addModule(naming.fc1, new LinearLayer(c.hiddenSize(), c.intermediateSize(), true));
        fc2 = addModule(naming.fc2, new LinearLayer(c.intermediateSize(), c.hiddenSize(), true));
        hooks = new BlockHooks(index, c.hiddenSize(), c.numHeads(), 1, tokenFanIn);
    }

    @Override
    public BlockHooks blockHooks() {
        return hooks;
    }

    @Override
    public NDList promptKeyValues(NDArray tokens, ForwardContext ctx) {
        return attention.keyValuesOf(norm1.forward(tokens, ctx));
    }

    @Override
    public NDArray forward(NDArray x, ForwardContext ctx) {
        // Each residual branch frees its intermediates (attention maps, the MLP's 4× wide activations) as
        // soon as its output exists, and the block frees the rest as it ends: PyTorch frees each tensor
        // when its last reference goes; DJL keeps it until its scope closes. Autograd keeps what it needs.
        return freeingIntermediates(() -> {
            NDArray tokens = hooks.applyTokens(x, ctx);
            NDArray y = tokens.add(freeingIntermediates(() -> attentionBranch(tokens, ctx)));
            return y.add(freeingIntermediates(() -> mlpBranch(y, ctx)));
        });
    }

    private NDArray attentionBranch(NDArray x, ForwardContext ctx) {
        NDArray h = norm1.forward(x, ctx);
        NDArray a = attention.attend(h, hooks.keyValuePrefixes(h, ctx), ctx);
        return BlockHooks.applyBranch(hooks.attentionBranch(), x, a, ctx);
    }

    private NDArray mlpBranch(NDArray x, ForwardContext ctx) {
        NDArray m = fc2.forward(Activation.gelu(fc1.forward(norm2.forward(x, ctx), ctx)), ctx);
        return BlockHooks.applyBranch(hooks.mlpBranch(), x, m, ctx);
    }
}
