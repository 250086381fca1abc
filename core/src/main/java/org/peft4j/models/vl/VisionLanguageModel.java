package org.peft4j.models.vl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.peft4j.models.text.TextModel;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.Module;
import org.peft4j.nn.VisualInputs;

/**
 * A frozen ViT and a language model joined as METHODS.md §3 describes: the pooled visual feature
 * {@code tanh(Linear(CLS))} is prepended to the text as a one-token visual prefix and is the
 * routing input of every tuned layer; the image encoder's tokens are there for cross-attention.
 * The pooler's Linear maps the ViT width to the text width, so it is also the projection when the
 * widths differ. For VQA an answer head reads one text position (the first text token of an
 * encoder, the last real token of a decoder); captioning uses the decoder's language-model head.
 *
 * <p>Modules: {@code vision} (the ViT), {@code visual_pooler}, {@code text}, {@code answer_head}
 * (VQA only). The ViT never trains, so its tokens can be computed once per image
 * ({@link #visualTokens}) and reused every epoch.
 */
public final class VisionLanguageModel extends Module implements VisualInputs.Host {

    public static final String TEXT = "text";
    public static final String POOLER = "visual_pooler";
    public static final String ANSWER_HEAD = "answer_head";
    public static final String CAPTION_BIAS = "caption_bias";

    private final VitForImageClassification vision;
    private final LinearLayer pooler;
    private final Module text;
    private final TextModel textModel;
    private final LinearLayer answerHead;
    private final LogitBias captionBias;

    /** {@code answers}: the VQA answer vocabulary size, or 0 for captioning. */
    public VisionLanguageModel(VitForImageClassification vision, Module text, int answers) {
        if (!(text instanceof TextModel tm)) {
            throw new IllegalArgumentException("not a text model: " + text.getClass().getSimpleName());
        }
        if (answers == 0 && !tm.causal()) {
            throw new IllegalArgumentException("captioning needs a causal language model (gpt2), got " + tm.config().type().modelType);
        }
        this.vision = addModule("vision", vision);
        this.text = addModule(TEXT, text);
        this.textModel = tm;
        int d = tm.config().hiddenSize();
        pooler = addModule(POOLER, new LinearLayer(vision.config().hiddenSize(), d, true));
        answerHead = answers > 0 ? addModule(ANSWER_HEAD, new LinearLayer(d, answers, true)) : null;
        captionBias = answers == 0 ? addModule(CAPTION_BIAS, new LogitBias(tm.config().vocabSize())) : null;
    }

    /** Allocates the parts that are new here (pooler, answer head); the ViT and the text model come loaded. */
    public void initializeNew(ai.djl.ndarray.NDManager manager) {
        pooler.initialize(manager);
        if (answerHead != null) {
            answerHead.initialize(manager);
        }
        if (captionBias != null) {
            captionBias.initialize(manager);
        }
    }

    public TextModel text() {
        return textModel;
    }

    public VitForImageClassification vision() {
        return vision;
    }

    @Override
    public int visualWidth() {
        return (int) vision.config().hiddenSize();
    }

    @Override
    public String textPath() {
        return TEXT;
    }

    /** Whether the visual width differs from the text width (the pooler then also projects). */
    public boolean projects() {
        return vision.config().hiddenSize() != textModel.config().hiddenSize();
    }

    /** The frozen ViT's tokens {@code [B, 1 + patches, d_v]} of pixels {@code [B, C, H, W]}, outside autograd. */
    public NDArray visualTokens(NDArray pixels) {
        return vision.tokens(pixels, ForwardContext.INFERENCE).stopGradient();
    }

    /** The visual inputs of a batch: the pooled feature {@code [B, 1, d]} and the tokens, put in the context. */
    public ForwardContext withVisualInputs(NDArray tokens, ForwardContext ctx) {
        long b = tokens.getShape().get(0);
        NDArray feature = pooler.forward(tokens.get(":, 0, :"), ctx).tanh().reshape(b, 1, -1);
        return ctx.with(VisualInputs.FEATURE, feature).with(VisualInputs.TOKENS, tokens);
    }

    /**
     * Hidden states {@code [B, 1 + N, d]} of the visual prefix and the text ids {@code [B, N]};
     * {@code mask [B, N]} marks real tokens (null: none padded). {@code ctx} must come from
     * {@link #withVisualInputs}.
     */
    public NDArray encode(NDArray ids, NDArray mask, ForwardContext ctx) {
        NDArray feature = VisualInputs.require(ctx, VisualInputs.FEATURE, "the vision-language model");
        NDArray x = NDArrays.concat(new NDList(feature, textModel.embedTokens(ids)), 1);
        NDArray full = null;
        if (mask != null) {
            NDManager m = ids.getManager();
            full = NDArrays.concat(new NDList(m.ones(new Shape(mask.getShape().get(0), 1), mask.getDataType()), mask), 1);
        }
        return textModel.encode(x, full, null, ctx);
    }

    /**
     * VQA logits {@code [B, answers]} from hidden states of {@link #encode}: an encoder's first text
     * token ([CLS]/&lt;s&gt;, position 1 after the prefix), a decoder's last real token.
     */
    public NDArray answerLogits(NDArray hidden, NDArray mask, ForwardContext ctx) {
        if (answerHead == null) {
            throw new IllegalStateException("this model has no answer head (built for captioning)");
        }
        NDArray pooled;
        if (!textModel.causal()) {
            pooled = hidden.get(":, 1, :");
        } else {
            long b = hidden.getShape().get(0);
            long n = hidden.getShape().get(1) - 1;
            NDArray lengths = mask == null ? hidden.getManager().full(new Shape(b), n, DataType.INT64)
                    : mask.toType(DataType.INT64, false).sum(new int[] {1});
            // row i's last real token sits at position lengths[i] (after the prefix at 0)
            NDArray oneHot = lengths.oneHot((int) n + 1).toType(DataType.FLOAT32, false).reshape(b, 1, n + 1);
            pooled = oneHot.matMul(hidden).reshape(b, -1);
        }
        return answerHead.forward(pooled, ctx);
    }

    /**
     * Next-token logits {@code [B, N − 1, V]} from {@link #encode}'s output for ids {@code [B, N]}:
     * text position t predicts id t + 1 (the prefix's own output is not used: the first id is the
     * fixed start token).
     */
    public NDArray captionLogits(NDArray hidden) {
        long n = hidden.getShape().get(1);
        return captioner().logits(hidden.get(":, 1:" + (n - 1) + ", :"));
    }

    /**
     * The language model as captioning sees it: its logits plus the trained per-token bias. A small
     * language model pretrained on other prose gives the caption words (colours, shapes) logits
     * ~10 nats below its frequent words; no low-rank update of the frozen blocks moves them that far
     * in a few epochs, so the caption's prior over the vocabulary ({@code V} numbers, like VQA's
     * answer head) trains with every method.
     */
    public TextModel captioner() {
        if (captionBias == null) {
            throw new IllegalStateException("this model has no caption bias (built for VQA)");
        }
        return new TextModel() {
            @Override
            public org.peft4j.models.text.TextConfig config() {
                return textModel.config();
            }

            @Override
            public NDArray embedTokens(NDArray ids) {
                return textModel.embedTokens(ids);
            }

            @Override
            public NDArray encode(NDArray embeddings, NDArray mask, org.peft4j.models.text.KvCache cache, ForwardContext ctx) {
                return textModel.encode(embeddings, mask, cache, ctx);
            }

            @Override
            public NDArray logits(NDArray hidden) {
                return captionBias.forward(textModel.logits(hidden), ForwardContext.INFERENCE);
            }
        };
    }

    /** A trainable bias added to the last axis. */
    static final class LogitBias extends Module {
        private final ai.djl.nn.Parameter bias;

        LogitBias(int size) {
            bias = addParam("bias", new Shape(size), org.peft4j.nn.Initializers.zeros());
        }

        @Override
        public NDArray forward(NDArray x, ForwardContext ctx) {
            return x.add(value(bias)); // x first: the result is freed with the step (DJL-NOTES)
        }
    }

    @Override
    public NDArray forward(NDArray x, ForwardContext ctx) {
        throw new UnsupportedOperationException("use visualTokens, withVisualInputs and encode");
    }
}
