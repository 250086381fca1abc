package org.peft4j.models.sam;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;
import org.peft4j.ManagedTest;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.Ops;
import org.peft4j.segmentation.PromptSampler;
import org.peft4j.segmentation.SegLoss;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * SAM's gradients from prompts to masks agree with finite differences: the attention scales and the
 * prompt encoder's Fourier features multiply by scalars on the autograd path, where a scalar DJL has
 * already freed would give garbage gradients. SegLoss's own gradient is checked the same way.
 */
class SamGradientTest extends ManagedTest {

    private double loss(SamModel sam, NDArray x, NDArray target, NDArray valid) {
        return lossArray(sam, x, target, valid).getFloat();
    }

    private NDArray lossArray(SamModel sam, NDArray x, NDArray target, NDArray valid) {
        NDArray emb = sam.forward(x, ForwardContext.TRAINING);
        var prompts = PromptSampler.batch(List.of(new PromptSampler.Prompt(new float[][] {{20, 30}, {50, 10}}, new int[] {1, 0}, null),
                new PromptSampler.Prompt(new float[][] {{40, 40}, {0, 0}}, new int[] {1, -1}, null)),
                new float[] {1, 1}, new float[] {1, 1}, manager);
        var o = sam.decode(emb, prompts, false, ForwardContext.TRAINING);
        // smooth in every weight (SegLoss's IoU target jumps where a pixel's sign flips)
        NDArray p = ai.djl.nn.Activation.sigmoid(Resize.bilinear(o.lowResMasks(), 64, 64));
        // scalars through Ops.scale: DJL's mul(Number) on the autograd path reads freed memory (DJL-NOTES)
        return Ops.scale(p.mul(target).sum().sub(Ops.scale(p.mul(valid).sum(), 0.3f)), 1e-3f).add(o.iouPredictions().square().sum());
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        Engine.getInstance().setRandomSeed(4);
        SamModel sam = new SamModel(SamConfig.preset("sam-tiny"));
        sam.initialize(manager);
        sam.setTrainable(true);
        NDArray x = manager.randomNormal(new Shape(2, 3, 64, 64));
        NDArray target = manager.randomUniform(0, 1, new Shape(2, 1, 64, 64)).gt(0.7f).toType(ai.djl.ndarray.types.DataType.FLOAT32, false);
        NDArray valid = manager.ones(target.getShape());
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray loss = lossArray(sam, x, target, valid);
            churn(); // reuse freed scalar memory before the backward pass reads it
            gc.backward(loss);
        }
        for (String name : List.of("image_encoder.blocks.0.attn.qkv.weight", "prompt_encoder.pe_layer.positional_encoding_gaussian_matrix",
                "mask_decoder.transformer.layers.0.self_attn.q_proj.weight")) {
            Parameter p = sam.namedParameters().get(name);
            float[] grad = p.getArray().getGradient().toFloatArray();
            int i = argmaxAbs(grad);
            float[] w = p.getArray().toFloatArray();
            float h = 1e-2f;
            float orig = w[i];
            w[i] = orig + h;
            p.getArray().set(w);
            double up = loss(sam, x, target, valid);
            w[i] = orig - h;
            p.getArray().set(w);
            double down = loss(sam, x, target, valid);
            w[i] = orig;
            p.getArray().set(w);
            double numeric = (up - down) / (2 * h);
            assertEquals(numeric, grad[i], Math.max(1e-4, 0.1 * Math.abs(numeric)), name);
        }
    }

    @Test
    void segLossGradientMatchesFiniteDifferences() {
        Engine.getInstance().setRandomSeed(5);
        Shape s = new Shape(2, 1, 6, 6);
        float[] logits = manager.randomNormal(s).toFloatArray();
        for (int i = 0; i < logits.length; i++) { // away from 0, so no pixel's hard mask flips
            logits[i] += Math.signum(logits[i]) * 0.5f;
        }
        NDArray target = manager.randomUniform(0, 1, s).gt(0.5f).toType(ai.djl.ndarray.types.DataType.FLOAT32, false);
        NDArray valid = manager.ones(s);
        NDArray iou = manager.create(new float[] {0.2f, 0.9f}, new Shape(2, 1));
        NDArray x = manager.create(logits, s);
        x.setRequiresGradient(true);
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(SegLoss.of(x, target, valid, iou).total());
        }
        float[] grad = x.getGradient().toFloatArray();
        for (int i : new int[] {0, 7, 40, 71}) {
            float h = 1e-3f;
            float[] up = logits.clone();
            up[i] += h;
            float[] down = logits.clone();
            down[i] -= h;
            double numeric = (SegLoss.of(manager.create(up, s), target, valid, iou).total().getFloat()
                    - SegLoss.of(manager.create(down, s), target, valid, iou).total().getFloat()) / (2 * h);
            assertEquals(numeric, grad[i], Math.max(2e-4, 0.05 * Math.abs(numeric)), "pixel " + i);
        }
    }

    /** Java-side buffers made and dropped: memory a freed scalar lived in gets new contents. */
    private void churn() {
        for (int i = 0; i < 2000; i++) {
            manager.create(1e6f).close();
            java.nio.ByteBuffer.allocateDirect(4).putFloat(0, 1e6f);
        }
        System.gc();
    }

    private static int argmaxAbs(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (Math.abs(v[i]) > Math.abs(v[best])) {
                best = i;
            }
        }
        return best;
    }
}
