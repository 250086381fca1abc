package org.peft4j.models;

import org.peft4j.models.sam.SamEncoderConfig;
import org.peft4j.models.text.TextConfig;
import org.peft4j.models.vit.VitConfig;

/**
 * Floating-point operations of a forward pass, counted from a model's configuration (a multiply-add is
 * two). Matrix products and attention's two products only: norms, activations and softmax are a few
 * operations per element, under 1% of these models' totals, and are left out as roofline counts
 * usually do. The roofline benchmark divides these by the measured time and by the machine's GEMM peak.
 */
public final class Flops {

    private Flops() {}

    /** One transformer block over {@code tokens} tokens of width {@code d}, MLP width {@code mlp}, full attention. */
    static double block(double tokens, long d, long mlp) {
        return 2 * tokens * (4.0 * d * d + 2.0 * d * mlp) // q, k, v, output projection; MLP in and out
                + 2 * 2 * tokens * tokens * d; // scores q·kᵀ and the weighted sum of values
    }

    /** A ViT classifier's forward on {@code batch} images: patch embedding, blocks over patches + class token, head. */
    public static double vit(VitConfig c, int batch) {
        long d = c.hiddenSize();
        double patches = c.numPatches();
        double patchEmbed = 2 * patches * c.patchSize() * c.patchSize() * c.numChannels() * d;
        double blocks = c.numLayers() * block(patches + 1, d, c.intermediateSize());
        double head = 2.0 * d * c.numLabels();
        return batch * (patchEmbed + blocks + head);
    }

    /**
     * SAM's image encoder on {@code batch} images: patch embedding; per block the projections and MLP over
     * the grid, attention inside padded windows (or over the whole grid for the global blocks) with the
     * decomposed relative-position terms; the neck's 1×1 and 3×3 convolutions.
     */
    public static double samEncoder(SamEncoderConfig c, int batch) {
        long d = c.embedDim();
        long grid = c.gridSize();
        double tokens = grid * grid;
        double total = 2 * tokens * c.patchSize() * c.patchSize() * c.inChans() * d;
        for (int i = 0; i < c.depth(); i++) {
            int window = c.windowOf(i);
            long side = window > 0 ? window : grid;
            long windows = window > 0 ? ceilDiv(grid, window) * ceilDiv(grid, window) : 1;
            double perWindow = (double) side * side;
            total += 2 * tokens * (4.0 * d * d + 2.0 * d * c.mlpDim());
            total += windows * 2 * 2 * perWindow * perWindow * d; // q·kᵀ and the sum of values in each window
            if (c.useRelPos()) {
                total += windows * 2 * 2 * perWindow * side * (d / (double) c.numHeads()) * c.numHeads(); // rel_h, rel_w
            }
        }
        total += 2 * tokens * d * c.outChans() + 2 * tokens * 9.0 * c.outChans() * c.outChans(); // the neck
        return batch * total;
    }

    /** A text model's forward on {@code batch} sequences of {@code length} tokens, with the LM head when {@code logits}. */
    public static double text(TextConfig c, int batch, int length, boolean logits) {
        long d = c.hiddenSize();
        double tokens = (double) batch * length;
        double blocks = c.numLayers() * (2 * tokens * (4.0 * d * d + 2.0 * d * c.intermediateSize())
                + 2 * 2 * batch * (double) length * length * d);
        return blocks + (logits ? 2 * tokens * d * c.vocabSize() : 0);
    }

    /**
     * A training step's FLOPs from its forward's: the backward pass computes the input gradients of every
     * product (one forward's worth) and, for the weights that train, their gradients (another). Frozen
     * backbone + small adapter: ≈ 2 × forward; everything trains: 3 × forward.
     */
    public static double trainStep(double forward, boolean backboneTrains) {
        return forward * (backboneTrains ? 3 : 2);
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
