package org.peft4j.models.text;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.peft4j.nn.EmbeddingLayer;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.LayerNormLayer;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.Module;

import java.util.ArrayList;
import java.util.List;

/**
 * BERT and RoBERTa encoders (transformers' {@code BertModel} / {@code RobertaModel}) under their
 * names without the family prefix ({@code embeddings.word_embeddings}, {@code encoder.layer.N...},
 * {@code pooler.dense}); the loader maps {@code bert.} / {@code roberta.} keys onto them.
 * Embeddings are word + position + token type (all type 0), then LayerNorm. RoBERTa numbers the
 * positions of real tokens from {@code pad_token_id + 1} and gives padding {@code pad_token_id}.
 */
public final class BertModel extends Module implements TextModel {

    private final TextConfig config;
    private final EmbeddingLayer words;
    private final EmbeddingLayer positions;
    private final EmbeddingLayer tokenTypes;
    private final LayerNormLayer embeddingNorm;
    private final List<BertLayer> layers = new ArrayList<>();
    private final LinearLayer pooler;

    public BertModel(TextConfig config) {
        if (config.type() == TextConfig.Type.GPT2) {
            throw new IllegalArgumentException("not a bert/roberta config: " + config.type());
        }
        this.config = config;
        words = addModule("embeddings.word_embeddings", new EmbeddingLayer(config.vocabSize(), config.hiddenSize()));
        positions = addModule("embeddings.position_embeddings", new EmbeddingLayer(config.maxPositions(), config.hiddenSize()));
        tokenTypes = config.typeVocabSize() > 0
                ? addModule("embeddings.token_type_embeddings", new EmbeddingLayer(config.typeVocabSize(), config.hiddenSize())) : null;
        embeddingNorm = addModule("embeddings.LayerNorm", new LayerNormLayer(config.hiddenSize(), config.layerNormEps()));
        for (int i = 0; i < config.numLayers(); i++) {
            layers.add(addModule("encoder.layer." + i, new BertLayer(config, i)));
        }
        pooler = addModule("pooler.dense", new LinearLayer(config.hiddenSize(), config.hiddenSize(), true));
    }

    @Override
    public TextConfig config() {
        return config;
    }

    @Override
    public NDArray embedTokens(NDArray ids) {
        return words.forward(ids, ForwardContext.INFERENCE);
    }

    @Override
    public NDArray encode(NDArray embeddings, NDArray mask, KvCache cache, ForwardContext ctx) {
        if (cache != null) {
            throw new IllegalArgumentException("an encoder (" + config.type().modelType + ") has no key/value cache");
        }
        Shape s = embeddings.getShape();
        long b = s.get(0);
        long n = s.get(1);
        if (n > config.contextLength()) {
            throw new IllegalArgumentException(n + " tokens exceed the context of " + config.contextLength()
                    + " (max_position_embeddings " + config.maxPositions() + ")");
        }
        NDManager m = embeddings.getManager();
        NDArray x = embeddings.add(positions.forward(positionIds(mask, b, n, m), ctx));
        if (tokenTypes != null) {
            x = x.add(tokenTypes.forward(m.zeros(new Shape(b, n), DataType.INT64), ctx));
        }
        x = embeddingNorm.forward(x, ctx);
        NDArray bias = TextModel.additiveMask(mask, n, n, false, m);
        for (BertLayer layer : layers) {
            x = layer.forward(x, bias, ctx);
        }
        return x;
    }

    /** BERT: 0..N−1. RoBERTa: {@code cumsum(mask)·mask + pad}, so padding sits at pad_token_id. */
    private NDArray positionIds(NDArray mask, long b, long n, NDManager m) {
        NDArray ids = m.arange(0, (int) n).toType(DataType.INT64, false).reshape(1, n).broadcast(b, n);
        if (config.type() != TextConfig.Type.ROBERTA) {
            return ids;
        }
        long pad = config.padTokenId();
        if (mask == null) {
            return ids.add(pad + 1);
        }
        NDArray keep = mask.toType(DataType.INT64, false);
        return keep.cumSum(1).mul(keep).add(pad);
    }

    /** {@code tanh(dense(h[:, 0]))}: BERT's pooled output. */
    public NDArray pool(NDArray hidden, ForwardContext ctx) {
        return pooler.forward(hidden.get(":, 0, :"), ctx).tanh();
    }

    /** Encoders have no language-model head here. */
    @Override
    public NDArray logits(NDArray hidden) {
        throw new UnsupportedOperationException(config.type().modelType + " is an encoder: no next-token logits");
    }

    @Override
    public NDArray forward(NDArray ids, ForwardContext ctx) {
        return hiddenStates(ids, ctx);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0].add(config.hiddenSize())};
    }
}
