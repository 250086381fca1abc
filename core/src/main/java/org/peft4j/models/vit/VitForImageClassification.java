package org.peft4j.models.vit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import org.peft4j.models.FeatureExtractor;
import org.peft4j.nn.Conv2dLayer;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.Initializers;
import org.peft4j.nn.LayerNormLayer;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.Module;

import java.util.ArrayList;
import java.util.List;

/**
 * Vision Transformer classifier (Dosovitskiy et al.), the same computation as transformers'
 * ViTForImageClassification and timm's VisionTransformer with token pooling: patch embedding,
 * class token, learned positions, pre-norm blocks, final norm, linear head on the class token.
 */
public final class VitForImageClassification extends Module implements FeatureExtractor, org.peft4j.nn.Staged {

    private final VitConfig config;
    private final Parameter clsToken;
    private final Parameter posEmbed;
    private final Conv2dLayer patchEmbedding;
    private final List<VitLayer> layers = new ArrayList<>();
    private final LayerNormLayer finalNorm;
    private final LinearLayer head;

    public VitForImageClassification(VitConfig c) {
        this.config = c;
        VitNaming naming = c.naming();
        int d = c.hiddenSize();
        clsToken = addParam(naming.clsToken, new Shape(1, 1, d), Initializers.truncatedNormal(0.02f));
        posEmbed = addParam(naming.posEmbed, new Shape(1, c.numPatches() + 1, d), Initializers.truncatedNormal(0.02f));
        patchEmbedding = addModule(naming.patchProjection,
                new Conv2dLayer(c.numChannels(), d, c.patchSize(), c.patchSize(), true));
        for (int i = 0; i < c.numLayers(); i++) {
            layers.add(addModule(naming.layer(i), new VitLayer(c, naming, i, patchEmbedding.fanIn())));
        }
        finalNorm = addModule(naming.finalNorm, new LayerNormLayer(d, c.layerNormEps()));
        head = addModule(naming.head, new LinearLayer(d, c.numLabels(), true));
    }

    public VitConfig config() {
        return config;
    }

    /** Module path of the classification head ({@code classifier} or {@code head}). */
    public String headPath() {
        return config.naming().head;
    }

    public LinearLayer head() {
        return head;
    }

    @Override
    public long featureSize() {
        return config.hiddenSize();
    }

    public Parameter positionEmbedding() {
        return posEmbed;
    }

    /** {@code pixels [B, C, H, W]} at the configured image size → logits {@code [B, labels]}. */
    @Override
    public NDArray forward(NDArray pixels, ForwardContext ctx) {
        return head.forward(features(pixels, ctx), ctx);
    }

    /** The normalised class token {@code [B, hidden]}, what the head sees. */
    @Override
    public NDArray features(NDArray pixels, ForwardContext ctx) {
        return tokens(pixels, ctx).get(":, 0, :");
    }

    /** Every normalised token {@code [B, 1 + patches, hidden]}, the class token first (what cross-attention reads). */
    public NDArray tokens(NDArray pixels, ForwardContext ctx) {
        Shape s = pixels.getShape();
        if (s.dimension() != 4 || s.get(1) != config.numChannels()
                || s.get(2) != config.imageSize() || s.get(3) != config.imageSize()) {
            throw new IllegalArgumentException("expected pixel_values [N, " + config.numChannels() + ", "
                    + config.imageSize() + ", " + config.imageSize() + "], got " + s);
        }
        NDArray x = embed(pixels, ctx);
        for (VitLayer layer : layers) {
            x = layer.forward(x, ctx);
        }
        return finalNorm.forward(x, ctx);
    }

    /** Patch embedding, class token and positions: the first block's input {@code [B, 1 + patches, hidden]}. */
    private NDArray embed(NDArray pixels, ForwardContext ctx) {
        long b = pixels.getShape().get(0);
        int d = config.hiddenSize();
        NDArray x = patchEmbedding.forward(pixels, ctx).reshape(b, d, -1).transpose(0, 2, 1);
        // The class token would attach to the model's manager: hand it to the batch's (DJL-NOTES).
        NDArray cls = value(clsToken).broadcast(b, 1, d);
        cls.attach(x.getManager());
        return NDArrays.concat(new NDList(cls, x), 1).add(value(posEmbed));
    }

    /** Embeddings, each block, then final norm + head on the class token: {@link #forward} as a chain. */
    @Override
    public List<java.util.function.UnaryOperator<NDArray>> stages(ForwardContext ctx) {
        List<java.util.function.UnaryOperator<NDArray>> out = new ArrayList<>();
        out.add(pixels -> embed(pixels, ctx));
        for (VitLayer layer : layers) {
            out.add(x -> layer.forward(x, ctx));
        }
        out.add(x -> head.forward(finalNorm.forward(x, ctx).get(":, 0, :"), ctx));
        return out;
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {new Shape(inputShapes[0].get(0), config.numLabels())};
    }
}
