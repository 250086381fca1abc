package org.peft4j.models.sam;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.Module;

/**
 * The Segment Anything Model (official {@code Sam}): image encoder, prompt encoder and mask decoder
 * under their official names, with the official pre- and post-processing. {@link #forward} is the
 * image encoder (the heavy, adaptable part); {@link #segment} runs prompts on one image's embedding.
 */
public final class SamModel extends Module {

    /** Masks of one image for B prompt sets: logits at the input size, low-res logits, IoU scores. */
    public record Masks(NDArray masks, NDArray lowRes, NDArray iou) {}

    private final SamConfig config;
    private final SamImageEncoder imageEncoder;
    private final SamPromptEncoder promptEncoder;
    private final SamMaskDecoder maskDecoder;

    public SamModel(SamConfig c) {
        this.config = c;
        imageEncoder = addModule("image_encoder", new SamImageEncoder(c.encoder()));
        promptEncoder = addModule("prompt_encoder", new SamPromptEncoder(c.prompt()));
        maskDecoder = addModule("mask_decoder", new SamMaskDecoder(c.decoder()));
    }

    public SamConfig config() {
        return config;
    }

    public SamImageEncoder imageEncoder() {
        return imageEncoder;
    }

    public SamPromptEncoder promptEncoder() {
        return promptEncoder;
    }

    public SamMaskDecoder maskDecoder() {
        return maskDecoder;
    }

    /** Normalised, padded images {@code [B, 3, img, img]} → image embeddings {@code [B, C, h, w]}. */
    @Override
    public NDArray forward(NDArray pixels, ForwardContext ctx) {
        return imageEncoder.forward(pixels, ctx);
    }

    /**
     * Prompts on one image's embedding {@code [1, C, h, w]}: masks as logits, upscaled and cropped to
     * {@code inputH × inputW} (the resized image inside the padded input) and resized to
     * {@code originalH × originalW}.
     */
    public Masks segment(NDArray embedding, SamPromptEncoder.Prompts prompts, boolean multimask, int inputH, int inputW,
                         int originalH, int originalW, ForwardContext ctx) {
        SamMaskDecoder.Output o = decode(embedding, prompts, multimask, ctx);
        return new Masks(postprocess(o.lowResMasks(), inputH, inputW, originalH, originalW), o.lowResMasks(),
                o.iouPredictions());
    }

    /**
     * Prompt encoder and mask decoder on image embeddings {@code [1 or B, C, h, w]} for B prompt sets:
     * one image's embedding serves every prompt set, or B embeddings are paired with B prompt sets
     * (training on a batch of images). Low-res masks {@code [B, M, 4h, 4w]} and IoU scores.
     */
    public SamMaskDecoder.Output decode(NDArray embedding, SamPromptEncoder.Prompts prompts, boolean multimask,
                                       ForwardContext ctx) {
        NDManager m = embedding.getManager();
        long images = embedding.getShape().get(0);
        if (images != 1 && images != prompts.batch()) {
            throw new IllegalArgumentException(images + " image embeddings for " + prompts.batch() + " prompt sets");
        }
        NDArray sparse = promptEncoder.sparse(prompts, m);
        NDArray dense = promptEncoder.dense(prompts, m, ctx);
        return maskDecoder.predict(embedding, promptEncoder.densePositional(m), sparse, dense, multimask, ctx);
    }

    /**
     * Official {@code postprocess_masks}: bilinear (half-pixel centres, no antialiasing) to the square
     * model input, crop the top-left {@code inputH × inputW}, bilinear to the original size.
     */
    public NDArray postprocess(NDArray lowRes, int inputH, int inputW, int originalH, int originalW) {
        int img = config.encoder().imgSize();
        if (inputH > img || inputW > img || inputH <= 0 || inputW <= 0 || originalH <= 0 || originalW <= 0) {
            throw new IllegalArgumentException("input size " + inputH + "x" + inputW + " must fit the " + img
                    + " model input, and the original size " + originalH + "x" + originalW + " be positive");
        }
        NDArray full = Resize.bilinear(lowRes, img, img);
        NDArray cropped = inputH == img && inputW == img ? full : full.get(":, :, :" + inputH + ", :" + inputW);
        return originalH == inputH && originalW == inputW ? cropped : Resize.bilinear(cropped, originalH, originalW);
    }

    /**
     * Official {@code preprocess}: {@code (x − mean) / std} per channel on 0..255 RGB {@code [3, H, W]}
     * (H, W at most the input size), then zeros at the bottom and right up to {@code [1, 3, img, img]}.
     */
    public NDArray preprocess(NDArray rgb) {
        Shape s = rgb.getShape();
        int img = config.encoder().imgSize();
        if (s.dimension() != 3 || s.get(0) != config.encoder().inChans() || s.get(1) > img || s.get(2) > img) {
            throw new IllegalArgumentException("expected an image [" + config.encoder().inChans() + ", H<=" + img
                    + ", W<=" + img + "], got " + s);
        }
        NDManager m = rgb.getManager();
        NDArray mean = m.create(config.pixelMean()).reshape(-1, 1, 1);
        NDArray std = m.create(config.pixelStd()).reshape(-1, 1, 1);
        NDArray x = rgb.sub(mean).div(std);
        if (s.get(2) < img) {
            x = NDArrays.concat(new NDList(x, m.zeros(new Shape(s.get(0), s.get(1), img - s.get(2)))), 2);
        }
        if (s.get(1) < img) {
            x = NDArrays.concat(new NDList(x, m.zeros(new Shape(s.get(0), img - s.get(1), img))), 1);
        }
        return x.expandDims(0);
    }
}
