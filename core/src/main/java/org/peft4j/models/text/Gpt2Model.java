package org.peft4j.models.text;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.peft4j.nn.EmbeddingLayer;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.LayerNormLayer;
import org.peft4j.nn.Module;

import java.util.ArrayList;
import java.util.List;

/**
 * GPT-2 (transformers' {@code GPT2LMHeadModel}) under its {@code save_pretrained} names
 * ({@code transformer.wte}, {@code transformer.h.N.attn.c_attn}, ...): token and learned position
 * embeddings, pre-norm causal blocks, a final norm, and logits through the token embedding (tied
 * {@code lm_head}).
 */
public final class Gpt2Model extends Module implements TextModel {

    private final TextConfig config;
    private final EmbeddingLayer wte;
    private final EmbeddingLayer wpe;
    private final List<Gpt2Block> blocks = new ArrayList<>();
    private final LayerNormLayer lnF;

    public Gpt2Model(TextConfig config) {
        if (config.type() != TextConfig.Type.GPT2) {
            throw new IllegalArgumentException("not a gpt2 config: " + config.type());
        }
        this.config = config;
        wte = addModule("transformer.wte", new EmbeddingLayer(config.vocabSize(), config.hiddenSize()));
        wpe = addModule("transformer.wpe", new EmbeddingLayer(config.maxPositions(), config.hiddenSize()));
        for (int i = 0; i < config.numLayers(); i++) {
            blocks.add(addModule("transformer.h." + i, new Gpt2Block(config, i)));
        }
        lnF = addModule("transformer.ln_f", new LayerNormLayer(config.hiddenSize(), config.layerNormEps()));
    }

    @Override
    public TextConfig config() {
        return config;
    }

    @Override
    public NDArray embedTokens(NDArray ids) {
        return wte.forward(ids, ForwardContext.INFERENCE);
    }

    @Override
    public NDArray encode(NDArray embeddings, NDArray mask, KvCache cache, ForwardContext ctx) {
        Shape s = embeddings.getShape();
        long n = s.get(1);
        int offset = cache == null ? 0 : cache.length();
        if (offset + n > config.maxPositions()) {
            throw new IllegalArgumentException(offset + n + " tokens exceed the context of " + config.maxPositions() + " (n_positions)");
        }
        NDManager m = embeddings.getManager();
        NDArray positions = m.arange(offset, offset + (int) n).toType(ai.djl.ndarray.types.DataType.INT64, false);
        NDArray x = embeddings.add(wpe.forward(positions, ctx));
        NDArray bias = TextModel.additiveMask(mask, n, offset + n, true, m);
        for (int i = 0; i < blocks.size(); i++) {
            x = blocks.get(i).forward(x, bias, cache, i, ctx);
        }
        return lnF.forward(x, ctx);
    }

    @Override
    public NDArray logits(NDArray hidden) {
        // hidden · wteᵀ with hidden as the first operand: the result is freed with the step (DJL-NOTES)
        return ai.djl.nn.core.Linear.linear(hidden, wte.weight().getArray()).singletonOrThrow();
    }

    @Override
    public NDArray forward(NDArray ids, ForwardContext ctx) {
        return logits(hiddenStates(ids, ctx));
    }

    public List<Gpt2Block> blocks() {
        return List.copyOf(blocks);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0].add(config.vocabSize())};
    }
}
