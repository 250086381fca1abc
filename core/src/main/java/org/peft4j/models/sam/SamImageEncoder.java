package org.peft4j.models.sam;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import org.peft4j.nn.Conv2dLayer;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.Initializers;
import org.peft4j.nn.Module;

import java.util.ArrayList;
import java.util.List;

/**
 * SAM's image encoder (official {@code ImageEncoderViT}): patch embedding, absolute positions on the
 * channels-last grid, windowed and global blocks, and the neck (1x1 conv, LayerNorm2d, 3x3 conv,
 * LayerNorm2d) to {@code [B, outChans, grid, grid]}. Module paths are the official names.
 */
public final class SamImageEncoder extends Module {

    private final SamEncoderConfig config;
    private final Conv2dLayer patchEmbed;
    private final Parameter posEmbed;
    private final List<SamBlock> blocks = new ArrayList<>();
    private final Conv2dLayer neck0;
    private final LayerNorm2d neck1;
    private final Conv2dLayer neck2;
    private final LayerNorm2d neck3;

    public SamImageEncoder(SamEncoderConfig c) {
        this.config = c;
        patchEmbed = addModule("patch_embed.proj", new Conv2dLayer(c.inChans(), c.embedDim(), c.patchSize(),
                c.patchSize(), true));
        posEmbed = c.useAbsPos() ? addParam("pos_embed", new Shape(1, c.gridSize(), c.gridSize(), c.embedDim()),
                Initializers.zeros()) : null;
        for (int i = 0; i < c.depth(); i++) {
            blocks.add(addModule("blocks." + i, new SamBlock(c, i)));
        }
        neck0 = addModule("neck.0", new Conv2dLayer(c.embedDim(), c.outChans(), 1, 1, false));
        neck1 = addModule("neck.1", new LayerNorm2d(c.outChans(), 1e-6f));
        neck2 = addModule("neck.2", new Conv2dLayer(c.outChans(), c.outChans(), 3, 1, 1, false));
        neck3 = addModule("neck.3", new LayerNorm2d(c.outChans(), 1e-6f));
    }

    public SamEncoderConfig config() {
        return config;
    }

    public List<SamBlock> blocks() {
        return List.copyOf(blocks);
    }

    /** The patch grid, channels last, before positions are added: {@code [B, grid, grid, C]}. */
    public NDArray patches(NDArray pixels, ForwardContext ctx) {
        Shape s = pixels.getShape();
        if (s.dimension() != 4 || s.get(1) != config.inChans() || s.get(2) != config.imgSize()
                || s.get(3) != config.imgSize()) {
            throw new IllegalArgumentException("expected images [N, " + config.inChans() + ", " + config.imgSize()
                    + ", " + config.imgSize() + "], got " + s);
        }
        return patchEmbed.forward(pixels, ctx).transpose(0, 2, 3, 1);
    }

    /** The grid after block {@code upTo} (inclusive; -1: the patches with positions), channels last. */
    public NDArray tokens(NDArray pixels, int upTo, ForwardContext ctx) {
        NDArray x = patches(pixels, ctx);
        if (posEmbed != null) {
            x = x.add(value(posEmbed));
        }
        for (int i = 0; i <= upTo && i < blocks.size(); i++) {
            x = blocks.get(i).forward(x, ctx);
        }
        return x;
    }

    /** {@code pixels [B, C, img, img]} (normalised, padded) → image embedding {@code [B, outChans, grid, grid]}. */
    @Override
    public NDArray forward(NDArray pixels, ForwardContext ctx) {
        NDArray x = tokens(pixels, blocks.size() - 1, ctx).transpose(0, 3, 1, 2);
        return neck3.forward(neck2.forward(neck1.forward(neck0.forward(x, ctx), ctx), ctx), ctx);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {new Shape(inputShapes[0].get(0), config.outChans(), config.gridSize(), config.gridSize())};
    }
}
