package org.peft4j.models.sam;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import org.peft4j.nn.BlockHooks;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.HookedBlock;
import org.peft4j.nn.LayerNormLayer;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.Module;

/**
 * One block of SAM's image encoder on a channels-last grid {@code [B, H, W, C]}: pre-norm attention
 * (windowed: the grid zero-padded at the bottom and right to a multiple of the window, cut into
 * windows in row-major order, padded tokens not masked) and an MLP with exact GELU.
 *
 * <p>Hook points: key/value prefix hooks see the whole normalised map {@code [B, H·W, C]} before the
 * window partition, so a gate can pool every token; their prefixes go to every window. Branch hooks
 * (adapters) see the grid. Token hooks (visual prompts) are not run: a prompt token has no place
 * in a grid.
 */
public final class SamBlock extends Module implements HookedBlock {

    private final int window;
    private final LayerNormLayer norm1;
    private final SamAttention attn;
    private final LayerNormLayer norm2;
    private final LinearLayer lin1;
    private final LinearLayer lin2;
    private final BlockHooks hooks;

    SamBlock(SamEncoderConfig c, int index) {
        window = c.windowOf(index);
        norm1 = addModule("norm1", new LayerNormLayer(c.embedDim(), c.layerNormEps()));
        attn = addModule("attn", new SamAttention(c.embedDim(), c.numHeads(), c.qkvBias(), c.useRelPos(),
                window > 0 ? window : c.gridSize()));
        norm2 = addModule("norm2", new LayerNormLayer(c.embedDim(), c.layerNormEps()));
        lin1 = addModule("mlp.lin1", new LinearLayer(c.embedDim(), c.mlpDim(), true));
        lin2 = addModule("mlp.lin2", new LinearLayer(c.mlpDim(), c.embedDim(), true));
        hooks = new BlockHooks(index, c.embedDim(), c.numHeads(), 0, (long) c.inChans() * c.patchSize() * c.patchSize());
    }

    @Override
    public BlockHooks blockHooks() {
        return hooks;
    }

    @Override
    public boolean takesTokens() {
        return false;
    }

    @Override
    public NDList promptKeyValues(NDArray tokens, ForwardContext ctx) {
        return attn.keyValuesOf(norm1.forward(tokens, ctx));
    }

    /** 0 for global attention. */
    public int window() {
        return window;
    }

    @Override
    public NDArray forward(NDArray x, ForwardContext ctx) {
        // The block frees its intermediates as it ends (autograd keeps what backward needs): a global
        // block of ViT-B at 1024² makes several 0.8 GB attention maps.
        return freeingIntermediates(() -> compute(x, ctx));
    }

    private NDArray compute(NDArray x, ForwardContext ctx) {
        Shape s = x.getShape();
        long b = s.get(0);
        int h = (int) s.get(1);
        int w = (int) s.get(2);
        long c = s.get(3);
        NDArray n = norm1.forward(x, ctx);
        NDList prefixes = hooks.keyValuePrefixes(n.reshape(b, (long) h * w, c), ctx);
        NDArray a;
        if (window > 0) {
            int hp = (h + window - 1) / window * window;
            int wp = (w + window - 1) / window * window;
            long windows = (long) (hp / window) * (wp / window);
            NDArray parts = partition(pad(n, hp, wp), window);
            NDList perWindow = prefixes == null ? null : new NDList(repeat(prefixes.get(0), windows),
                    repeat(prefixes.get(1), windows));
            a = unpartition(attn.attend(parts, perWindow, ctx), window, b, hp, wp).get(":, :" + h + ", :" + w + ", :");
        } else {
            a = attn.attend(n, prefixes, ctx);
        }
        x = x.add(BlockHooks.applyBranch(hooks.attentionBranch(), x, a, ctx));
        NDArray m = lin2.forward(Activation.gelu(lin1.forward(norm2.forward(x, ctx), ctx)), ctx);
        return x.add(BlockHooks.applyBranch(hooks.mlpBranch(), x, m, ctx));
    }

    /** Zeros at the bottom and right up to {@code hp × wp}. */
    private static NDArray pad(NDArray x, int hp, int wp) {
        Shape s = x.getShape();
        NDArray out = x;
        if (wp > s.get(2)) {
            out = NDArrays.concat(new NDList(out, out.getManager().zeros(new Shape(s.get(0), s.get(1), wp - s.get(2), s.get(3)),
                    out.getDataType())), 2);
        }
        if (hp > s.get(1)) {
            out = NDArrays.concat(new NDList(out, out.getManager().zeros(new Shape(s.get(0), hp - s.get(1), wp, s.get(3)),
                    out.getDataType())), 1);
        }
        return out;
    }

    /** {@code [B, Hp, Wp, C]} → {@code [B·nWindows, ws, ws, C]}, windows in row-major order per image. */
    static NDArray partition(NDArray x, int ws) {
        Shape s = x.getShape();
        long b = s.get(0);
        long hp = s.get(1);
        long wp = s.get(2);
        long c = s.get(3);
        return x.reshape(b, hp / ws, ws, wp / ws, ws, c).transpose(0, 1, 3, 2, 4, 5).reshape(-1, ws, ws, c);
    }

    /** The inverse of {@link #partition}. */
    static NDArray unpartition(NDArray windows, int ws, long b, long hp, long wp) {
        long c = windows.getShape().get(3);
        return windows.reshape(b, hp / ws, wp / ws, ws, ws, c).transpose(0, 1, 3, 2, 4, 5).reshape(b, hp, wp, c);
    }

    /** {@code [B, P, C]} → {@code [B·n, P, C]}, each image's prefixes once per window. */
    private static NDArray repeat(NDArray p, long n) {
        Shape s = p.getShape();
        return p.expandDims(1).broadcast(s.get(0), n, s.get(1), s.get(2)).reshape(s.get(0) * n, s.get(1), s.get(2));
    }
}
