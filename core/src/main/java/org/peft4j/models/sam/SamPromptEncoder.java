package org.peft4j.models.sam;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import org.peft4j.nn.Conv2dLayer;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.Initializers;
import org.peft4j.nn.Module;
import org.peft4j.nn.Ops;

/**
 * SAM's prompt encoder (official {@code PromptEncoder}): points and box corners become sparse tokens
 * (random-Fourier position + a learned embedding per kind), a low-res mask becomes a dense embedding
 * through a small conv stack (else the learned "no mask" embedding everywhere).
 *
 * <p>Points are (x, y) in pixels of the model-input frame, shifted +0.5 to the pixel centre, then
 * divided by the input width and height. Label 1 is a positive point, 0 negative, −1 padding.
 */
public final class SamPromptEncoder extends Module {

    /** Sizes: token width, image-embedding grid, model input, hidden channels of the mask path. */
    public record Config(int embedDim, int embedHeight, int embedWidth, int inputHeight, int inputWidth,
                         int maskInChans) {}

    /** One batch of prompt sets; any may be null. points {@code [B,N,2]}, labels {@code [B,N]}, boxes {@code [B,4]}, masks {@code [B,1,4h,4w]}. */
    public record Prompts(NDArray points, NDArray labels, NDArray boxes, NDArray masks) {
        public long batch() {
            return points != null ? points.getShape().get(0) : boxes != null ? boxes.getShape().get(0)
                    : masks != null ? masks.getShape().get(0) : 1;
        }
    }

    private final Config config;
    private final Parameter gaussian;
    private final Parameter[] pointEmbeddings = new Parameter[4];
    private final Parameter notAPoint;
    private final Parameter noMask;
    private final Conv2dLayer mask0;
    private final LayerNorm2d mask1;
    private final Conv2dLayer mask3;
    private final LayerNorm2d mask4;
    private final Conv2dLayer mask6;

    public SamPromptEncoder(Config c) {
        this.config = c;
        int d = c.embedDim();
        gaussian = addParam("pe_layer.positional_encoding_gaussian_matrix", new Shape(2, d / 2), Initializers.normal(1f));
        for (int i = 0; i < 4; i++) {
            pointEmbeddings[i] = addParam("point_embeddings." + i + ".weight", new Shape(1, d), Initializers.normal(1f));
        }
        notAPoint = addParam("not_a_point_embed.weight", new Shape(1, d), Initializers.normal(1f));
        noMask = addParam("no_mask_embed.weight", new Shape(1, d), Initializers.normal(1f));
        int m = c.maskInChans();
        mask0 = addModule("mask_downscaling.0", new Conv2dLayer(1, m / 4, 2, 2, true));
        mask1 = addModule("mask_downscaling.1", new LayerNorm2d(m / 4, 1e-6f));
        mask3 = addModule("mask_downscaling.3", new Conv2dLayer(m / 4, m, 2, 2, true));
        mask4 = addModule("mask_downscaling.4", new LayerNorm2d(m, 1e-6f));
        mask6 = addModule("mask_downscaling.6", new Conv2dLayer(m, d, 1, 1, true));
    }

    public Config config() {
        return config;
    }

    /** Random-Fourier features of coordinates in [0,1] {@code [..., 2]} → {@code [..., d]}: [sin | cos] of 2π(2c−1)G. */
    private NDArray positional(NDArray unit) {
        // Ops.scale: a scalar on the autograd path must outlive the backward pass (DJL-NOTES)
        NDArray projected = Ops.scale(unit.mul(2f).sub(1f).matMul(value(gaussian)), (float) (2 * Math.PI));
        return NDArrays.concat(new NDList(projected.sin(), projected.cos()), -1);
    }

    /** The positional encoding of every image-embedding cell centre, {@code [1, d, h, w]} (the decoder's image PE). */
    public NDArray densePositional(NDManager manager) {
        int h = config.embedHeight();
        int w = config.embedWidth();
        float[] grid = new float[h * w * 2];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                grid[(y * w + x) * 2] = (x + 0.5f) / w;
                grid[(y * w + x) * 2 + 1] = (y + 0.5f) / h;
            }
        }
        return positional(manager.create(grid, new Shape(h, w, 2))).transpose(2, 0, 1).expandDims(0);
    }

    /** Sparse tokens {@code [B, N', d]} (points, a padding point when there is no box, box corners). */
    public NDArray sparse(Prompts p, NDManager manager) {
        long b = p.batch();
        NDList parts = new NDList();
        if (p.points() != null) {
            parts.add(points(p.points(), p.labels(), p.boxes() == null, manager));
        }
        if (p.boxes() != null) {
            parts.add(boxCorners(p.boxes()));
        }
        if (parts.isEmpty()) {
            return manager.zeros(new Shape(b, 0, config.embedDim()));
        }
        return parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts, 1);
    }

    private NDArray points(NDArray points, NDArray labels, boolean pad, NDManager manager) {
        if (labels == null || !labels.getShape().equals(points.getShape().slice(0, 2))) {
            throw new IllegalArgumentException("point labels " + (labels == null ? "missing" : labels.getShape())
                    + " do not match points " + points.getShape());
        }
        NDArray xy = points.add(0.5f);
        NDArray l = labels;
        if (pad) {
            long b = points.getShape().get(0);
            xy = NDArrays.concat(new NDList(xy, manager.zeros(new Shape(b, 1, 2))), 1);
            l = NDArrays.concat(new NDList(l, manager.ones(new Shape(b, 1)).neg()), 1);
        }
        NDArray pe = positional(normalise(xy));
        NDArray lab = l.expandDims(-1);
        NDArray padding = lab.eq(-1f).toType(pe.getDataType(), false);
        NDArray negative = lab.eq(0f).toType(pe.getDataType(), false);
        NDArray positive = lab.eq(1f).toType(pe.getDataType(), false);
        return pe.mul(padding.neg().add(1f)).add(padding.mul(value(notAPoint)))
                .add(negative.mul(value(pointEmbeddings[0]))).add(positive.mul(value(pointEmbeddings[1])));
    }

    private NDArray boxCorners(NDArray boxes) {
        long b = boxes.getShape().get(0);
        NDArray pe = positional(normalise(boxes.add(0.5f).reshape(b, 2, 2)));
        NDArray kinds = NDArrays.concat(new NDList(value(pointEmbeddings[2]), value(pointEmbeddings[3])), 0); // [2, d]
        kinds.attach(pe.getManager()); // made from parameters: it would stay with the model's manager (DJL-NOTES)
        return pe.add(kinds);
    }

    /** Pixels of the input frame → [0,1]: x by the width, y by the height. */
    private NDArray normalise(NDArray xy) {
        NDArray scale = xy.getManager().create(new float[] {1f / config.inputWidth(), 1f / config.inputHeight()});
        return xy.mul(scale);
    }

    /** Dense embedding {@code [B, d, h, w]}: from the mask prompt, or "no mask" everywhere. */
    public NDArray dense(Prompts p, NDManager manager, ForwardContext ctx) {
        if (p.masks() != null) {
            Shape s = p.masks().getShape();
            if (s.dimension() != 4 || s.get(1) != 1 || s.get(2) != 4L * config.embedHeight()
                    || s.get(3) != 4L * config.embedWidth()) {
                throw new IllegalArgumentException("mask prompt must be [B, 1, " + 4 * config.embedHeight() + ", "
                        + 4 * config.embedWidth() + "], got " + s);
            }
            NDArray x = Activation.gelu(mask1.forward(mask0.forward(p.masks(), ctx), ctx));
            x = Activation.gelu(mask4.forward(mask3.forward(x, ctx), ctx));
            return mask6.forward(x, ctx);
        }
        NDArray e = value(noMask).reshape(1, config.embedDim(), 1, 1)
                .broadcast(p.batch(), config.embedDim(), config.embedHeight(), config.embedWidth());
        e.attach(manager);
        return e;
    }

    @Override
    public NDArray forward(NDArray x, ForwardContext ctx) {
        throw new UnsupportedOperationException("use sparse(...) and dense(...)");
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return inputShapes;
    }
}
