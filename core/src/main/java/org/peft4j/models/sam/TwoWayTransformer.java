package org.peft4j.models.sam;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.LayerNormLayer;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.Module;

import java.util.ArrayList;
import java.util.List;

/**
 * The mask decoder's two-way transformer (official {@code TwoWayTransformer}): tokens and image
 * tokens attend to each other in every layer; the original tokens are the query positional
 * encoding throughout; layer 0's self-attention has no PE and no residual. LayerNorms use eps 1e-5.
 */
final class TwoWayTransformer extends Module {

    /** What one call computed: the final tokens and image tokens, and every layer's outputs. */
    record Output(NDArray tokens, NDArray imageTokens, List<NDArray> layerQueries, List<NDArray> layerKeys) {}

    private final List<Layer> layers = new ArrayList<>();
    private final TwoWayAttention finalAttn;
    private final LayerNormLayer normFinal;

    TwoWayTransformer(int depth, int dim, int heads, int mlpDim, int downsample) {
        for (int i = 0; i < depth; i++) {
            layers.add(addModule("layers." + i, new Layer(dim, heads, mlpDim, downsample, i == 0)));
        }
        finalAttn = addModule("final_attn_token_to_image", new TwoWayAttention(dim, heads, downsample));
        normFinal = addModule("norm_final_attn", new LayerNormLayer(dim, 1e-5f));
    }

    /** {@code image [B, C, H, W]}, its PE (same shape), prompt tokens {@code [B, N, C]}. */
    Output run(NDArray image, NDArray imagePe, NDArray tokens, ForwardContext ctx) {
        Shape s = image.getShape();
        NDArray keys = image.reshape(s.get(0), s.get(1), -1).transpose(0, 2, 1);
        NDArray keyPe = imagePe.reshape(s.get(0), s.get(1), -1).transpose(0, 2, 1);
        NDArray queries = tokens;
        List<NDArray> qs = new ArrayList<>();
        List<NDArray> ks = new ArrayList<>();
        for (Layer l : layers) {
            NDList qk = l.run(queries, keys, tokens, keyPe, ctx);
            queries = qk.get(0);
            keys = qk.get(1);
            qs.add(queries);
            ks.add(keys);
        }
        NDArray attn = finalAttn.attend(queries.add(tokens), keys.add(keyPe), keys, ctx);
        queries = normFinal.forward(queries.add(attn), ctx);
        return new Output(queries, keys, qs, ks);
    }

    @Override
    public NDArray forward(NDArray x, ForwardContext ctx) {
        throw new UnsupportedOperationException("use run(image, imagePe, tokens)");
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return inputShapes;
    }

    /** One two-way block: token self-attention, tokens → image, MLP (ReLU), image → tokens, each followed by a LayerNorm. */
    private static final class Layer extends Module {
        private final boolean skipFirstPe;
        private final TwoWayAttention selfAttn;
        private final LayerNormLayer norm1;
        private final TwoWayAttention tokenToImage;
        private final LayerNormLayer norm2;
        private final LinearLayer lin1;
        private final LinearLayer lin2;
        private final LayerNormLayer norm3;
        private final LayerNormLayer norm4;
        private final TwoWayAttention imageToToken;

        Layer(int dim, int heads, int mlpDim, int downsample, boolean skipFirstPe) {
            this.skipFirstPe = skipFirstPe;
            selfAttn = addModule("self_attn", new TwoWayAttention(dim, heads, 1));
            norm1 = addModule("norm1", new LayerNormLayer(dim, 1e-5f));
            tokenToImage = addModule("cross_attn_token_to_image", new TwoWayAttention(dim, heads, downsample));
            norm2 = addModule("norm2", new LayerNormLayer(dim, 1e-5f));
            lin1 = addModule("mlp.lin1", new LinearLayer(dim, mlpDim, true));
            lin2 = addModule("mlp.lin2", new LinearLayer(mlpDim, dim, true));
            norm3 = addModule("norm3", new LayerNormLayer(dim, 1e-5f));
            norm4 = addModule("norm4", new LayerNormLayer(dim, 1e-5f));
            imageToToken = addModule("cross_attn_image_to_token", new TwoWayAttention(dim, heads, downsample));
        }

        NDList run(NDArray queries, NDArray keys, NDArray queryPe, NDArray keyPe, ForwardContext ctx) {
            if (skipFirstPe) {
                queries = selfAttn.attend(queries, queries, queries, ctx);
            } else {
                NDArray q = queries.add(queryPe);
                queries = queries.add(selfAttn.attend(q, q, queries, ctx));
            }
            queries = norm1.forward(queries, ctx);
            NDArray k = keys.add(keyPe);
            queries = norm2.forward(queries.add(tokenToImage.attend(queries.add(queryPe), k, keys, ctx)), ctx);
            NDArray mlp = lin2.forward(Activation.relu(lin1.forward(queries, ctx)), ctx);
            queries = norm3.forward(queries.add(mlp), ctx);
            NDArray q = queries.add(queryPe);
            keys = norm4.forward(keys.add(imageToToken.attend(k, q, queries, ctx)), ctx);
            return new NDList(queries, keys);
        }

        @Override
        public NDArray forward(NDArray x, ForwardContext ctx) {
            throw new UnsupportedOperationException("use run(queries, keys, pe...)");
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            return inputShapes;
        }
    }
}
