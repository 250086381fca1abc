package org.peft4j.models.sam;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.Initializers;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.Module;

import java.util.ArrayList;
import java.util.List;

/**
 * SAM's mask decoder (official {@code MaskDecoder}): an IoU token and {@code 1 + multimask} mask
 * tokens join the prompt tokens in the two-way transformer over the (prompt-conditioned) image
 * embedding; the image tokens are upscaled 4x, each mask token's hypernetwork MLP gives the weights
 * of its mask over the upscaled channels, and an MLP on the IoU token scores the masks. Mask token 0
 * is the single-mask output, tokens 1.. the multimask ones (SAM v1 does not pick the best of them).
 */
public final class SamMaskDecoder extends Module {

    /** Sizes: transformer width, multimask outputs, two-way depth, heads, MLP width, attention downsampling, IoU head depth and width. */
    public record Config(int dim, int multimask, int depth, int heads, int mlpDim, int downsample, int iouDepth,
                         int iouHidden) {}

    /** One decoder call: masks and scores as returned, and the intermediates the golden tests check. */
    public record Output(NDArray lowResMasks, NDArray iouPredictions, NDArray tokensOut, NDArray imageTokensOut,
                         List<NDArray> layerQueries, List<NDArray> layerKeys, NDArray upscaled, NDArray hyperIn,
                         NDArray iouAll) {}

    private final Config config;
    private final Parameter iouToken;
    private final Parameter maskTokens;
    private final TwoWayTransformer transformer;
    private final ConvTranspose2dLayer up0;
    private final LayerNorm2d up1;
    private final ConvTranspose2dLayer up3;
    private final List<Mlp> hypernetworks = new ArrayList<>();
    private final Mlp iouHead;

    public SamMaskDecoder(Config c) {
        this.config = c;
        int d = c.dim();
        int tokens = c.multimask() + 1;
        iouToken = addParam("iou_token.weight", new Shape(1, d), Initializers.normal(1f));
        maskTokens = addParam("mask_tokens.weight", new Shape(tokens, d), Initializers.normal(1f));
        transformer = addModule("transformer", new TwoWayTransformer(c.depth(), d, c.heads(), c.mlpDim(), c.downsample()));
        up0 = addModule("output_upscaling.0", new ConvTranspose2dLayer(d, d / 4, 2));
        up1 = addModule("output_upscaling.1", new LayerNorm2d(d / 4, 1e-6f));
        up3 = addModule("output_upscaling.3", new ConvTranspose2dLayer(d / 4, d / 8, 2));
        for (int i = 0; i < tokens; i++) {
            hypernetworks.add(addModule("output_hypernetworks_mlps." + i, new Mlp(d, d, d / 8, 3)));
        }
        iouHead = addModule("iou_prediction_head", new Mlp(d, c.iouHidden(), tokens, c.iouDepth()));
    }

    public Config config() {
        return config;
    }

    /**
     * {@code image [1, C, h, w]} (one image's embedding), its positional encoding {@code [1, C, h, w]},
     * prompt tokens {@code [B, N, C]} and dense prompt embeddings {@code [B, C, h, w]} → masks
     * {@code [B, M, 4h, 4w]} and IoU scores {@code [B, M]}, M = multimask outputs or 1.
     */
    public Output predict(NDArray image, NDArray imagePe, NDArray sparse, NDArray dense, boolean multimask,
                          ForwardContext ctx) {
        long b = sparse.getShape().get(0);
        int d = config.dim();
        NDArray outputTokens = NDArrays.concat(new NDList(value(iouToken), value(maskTokens)), 0);
        outputTokens.attach(sparse.getManager()); // made from parameters: free it with the call (DJL-NOTES)
        long nOut = outputTokens.getShape().get(0);
        NDArray tokens = NDArrays.concat(new NDList(outputTokens.expandDims(0).broadcast(b, nOut, d), sparse), 1);
        Shape s = image.getShape();
        NDArray src = dense.add(image.broadcast(b, s.get(1), s.get(2), s.get(3)));
        NDArray pos = imagePe.broadcast(b, s.get(1), s.get(2), s.get(3));
        TwoWayTransformer.Output t = transformer.run(src, pos, tokens, ctx);
        NDArray iouOut = t.tokens().get(":, 0, :");
        NDArray upscaled = Activation.gelu(up3.forward(Activation.gelu(up1.forward(up0.forward(
                t.imageTokens().transpose(0, 2, 1).reshape(b, s.get(1), s.get(2), s.get(3)), ctx), ctx)), ctx));
        NDList hyper = new NDList();
        for (int i = 0; i < hypernetworks.size(); i++) {
            hyper.add(hypernetworks.get(i).forward(t.tokens().get(":, " + (1 + i) + ", :"), ctx));
        }
        NDArray hyperIn = NDArrays.stack(hyper, 1); // [B, tokens, C/8]
        Shape u = upscaled.getShape();
        NDArray masks = hyperIn.matMul(upscaled.reshape(b, u.get(1), u.get(2) * u.get(3))).reshape(b, -1, u.get(2), u.get(3));
        NDArray iouAll = iouHead.forward(iouOut, ctx);
        String pick = multimask ? ":, 1:" : ":, 0:1";
        return new Output(masks.get(pick), iouAll.get(pick), t.tokens(), t.imageTokens(), t.layerQueries(),
                t.layerKeys(), upscaled, hyperIn, iouAll);
    }

    @Override
    public NDArray forward(NDArray x, ForwardContext ctx) {
        throw new UnsupportedOperationException("use predict(...)");
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return inputShapes;
    }

    /** SAM's MLP: {@code layers.0..n-1} linears with ReLU between, nothing after the last. */
    static final class Mlp extends Module {
        private final List<LinearLayer> layers = new ArrayList<>();

        Mlp(int in, int hidden, int out, int depth) {
            for (int i = 0; i < depth; i++) {
                layers.add(addModule("layers." + i, new LinearLayer(i == 0 ? in : hidden, i == depth - 1 ? out : hidden, true)));
            }
        }

        @Override
        public NDArray forward(NDArray x, ForwardContext ctx) {
            for (int i = 0; i < layers.size(); i++) {
                x = layers.get(i).forward(x, ctx);
                if (i < layers.size() - 1) {
                    x = Activation.relu(x);
                }
            }
            return x;
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            return inputShapes;
        }
    }
}
