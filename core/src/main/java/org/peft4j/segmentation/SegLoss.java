package org.peft4j.segmentation;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Activation;
import org.peft4j.nn.Ops;

/**
 * SAM's training loss for one predicted mask per prompt set: 20 × focal loss (α = 0.25, γ = 2, mean
 * over the valid pixels) + dice loss + the mean squared error of the IoU head against the mask's
 * actual IoU (the actual IoU is a target: no gradient flows through it). Scalars on the autograd path
 * go through {@link Ops#scale}: DJL frees a {@code mul(Number)} scalar before the backward pass reads it.
 */
public final class SegLoss {

    public static final double FOCAL_WEIGHT = 20;
    static final float ALPHA = 0.25f;

    /** The total (differentiable) and its three terms as numbers. */
    public record Value(NDArray total, double focal, double dice, double iou) {}

    private SegLoss() {}

    /**
     * {@code logits [B, 1, H, W]}, {@code target} 0/1 and {@code valid} 0/1 of the same shape (valid 0
     * in the padding), {@code iouPred [B, 1]}.
     */
    public static Value of(NDArray logits, NDArray target, NDArray valid, NDArray iouPred) {
        int[] pixelAxes = {1, 2, 3};
        NDArray p = Activation.sigmoid(logits);
        // log(1 + e^x) − x·y without overflow: max(x, 0) − x·y + log(1 + e^−|x|)
        NDArray bce = Activation.relu(logits).sub(logits.mul(target)).add(logits.abs().neg().exp().add(1f).log());
        NDArray pt = p.mul(target).add(p.neg().add(1f).mul(target.neg().add(1f)));
        NDArray alpha = target.mul(2 * ALPHA - 1).add(1 - ALPHA);
        NDArray focalMap = alpha.mul(pt.neg().add(1f).square()).mul(bce).mul(valid);
        NDArray validCount = valid.sum(pixelAxes).maximum(1f);
        NDArray focal = focalMap.sum(pixelAxes).div(validCount).mean();
        NDArray pv = p.mul(valid);
        NDArray tv = target.mul(valid); // the padding counts for nothing
        NDArray dice = Ops.scale(pv.mul(tv).sum(pixelAxes), 2f).add(1f)
                .div(pv.sum(pixelAxes).add(tv.sum(pixelAxes)).add(1f)).neg().add(1f).mean();
        NDArray hard = logits.gt(0f).toType(DataType.FLOAT32, false).mul(valid);
        NDArray intersection = hard.mul(tv).sum(pixelAxes);
        NDArray union = hard.add(tv).sum(pixelAxes).sub(intersection);
        NDArray actual = intersection.div(union.maximum(1f)); // [B], a constant for autograd
        NDArray iou = iouPred.reshape(-1).sub(actual).square().mean();
        NDArray total = Ops.scale(focal, (float) FOCAL_WEIGHT).add(dice).add(iou);
        return new Value(total, focal.getFloat(), dice.getFloat(), iou.getFloat());
    }
}
