package org.peft4j.models.sam;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

/**
 * Sizes of SAM's image encoder (the official {@code ImageEncoderViT} arguments): a ViT on a
 * {@code imgSize²} image in {@code patchSize²} patches, windowed attention except in the
 * {@code globalAttnIndexes} blocks, decomposed relative positions, and a neck to {@code outChans}.
 */
public record SamEncoderConfig(int imgSize, int patchSize, int inChans, int embedDim, int depth, int numHeads,
                               double mlpRatio, int outChans, boolean qkvBias, boolean useAbsPos, boolean useRelPos,
                               int windowSize, List<Integer> globalAttnIndexes, float layerNormEps) {

    public SamEncoderConfig {
        if (imgSize <= 0 || patchSize <= 0 || inChans <= 0 || embedDim <= 0 || depth <= 0 || numHeads <= 0
                || outChans <= 0 || windowSize < 0 || !(mlpRatio > 0)) {
            throw new IllegalArgumentException("encoder sizes must be positive: img_size=" + imgSize + ", patch_size=" + patchSize
                    + ", in_chans=" + inChans + ", embed_dim=" + embedDim + ", depth=" + depth + ", num_heads=" + numHeads
                    + ", mlp_ratio=" + mlpRatio + ", out_chans=" + outChans + ", window_size=" + windowSize);
        }
        // Bounded before anything is allocated, as for a ViT: a typo must not end in an OutOfMemoryError.
        long grid = imgSize / patchSize;
        if (grid * grid > org.peft4j.models.vit.VitConfig.MAX_TOKENS) {
            throw new IllegalArgumentException("image size " + imgSize + " with patch size " + patchSize + " makes "
                    + grid * grid + " tokens; at most " + org.peft4j.models.vit.VitConfig.MAX_TOKENS + " are supported");
        }
        double params = (double) depth * (4.0 + 2.0 * mlpRatio) * embedDim * embedDim;
        if (params > org.peft4j.models.vit.VitConfig.MAX_PARAMETERS) {
            throw new IllegalArgumentException(String.format("depth=%d, embed_dim=%d, mlp_ratio=%s make %.3g parameters; "
                    + "at most %.0e are supported", depth, embedDim, mlpRatio, params, (double) org.peft4j.models.vit.VitConfig.MAX_PARAMETERS));
        }
        if (imgSize % patchSize != 0) {
            throw new IllegalArgumentException("image size " + imgSize + " is not a multiple of the patch size " + patchSize);
        }
        if (embedDim % numHeads != 0) {
            throw new IllegalArgumentException("width " + embedDim + " is not a multiple of the " + numHeads + " heads");
        }
        globalAttnIndexes = List.copyOf(globalAttnIndexes);
        for (int i : globalAttnIndexes) {
            if (i < 0 || i >= depth) {
                throw new IllegalArgumentException("global attention block " + i + " is not in 0.." + (depth - 1));
            }
        }
    }

    /** Tokens per side of the patch grid. */
    public int gridSize() {
        return imgSize / patchSize;
    }

    public int mlpDim() {
        return (int) (embedDim * mlpRatio);
    }

    /** The window of block {@code i}: 0 for global attention. */
    public int windowOf(int i) {
        return globalAttnIndexes.contains(i) ? 0 : windowSize;
    }

    /** The official builders' encoder for ViT-B (768 wide, 12 blocks), -L (1024, 24) and -H (1280, 32) at 1024². */
    public static SamEncoderConfig official(int width, int depth, int heads, List<Integer> global) {
        return new SamEncoderConfig(1024, 16, 3, width, depth, heads, 4.0, 256, true, true, true, 14, global, 1e-6f);
    }

    /** The {@code image_encoder} object of a peft4j SAM config.json (the official argument names). */
    public static SamEncoderConfig fromJson(JsonNode o) {
        List<Integer> global = new ArrayList<>();
        o.path("global_attn_indexes").forEach(n -> global.add(n.asInt()));
        return new SamEncoderConfig(o.path("img_size").asInt(1024), o.path("patch_size").asInt(16),
                o.path("in_chans").asInt(3), o.path("embed_dim").asInt(768), o.path("depth").asInt(12),
                o.path("num_heads").asInt(12), o.path("mlp_ratio").asDouble(4.0), o.path("out_chans").asInt(256),
                o.path("qkv_bias").asBoolean(true), o.path("use_abs_pos").asBoolean(true),
                o.path("use_rel_pos").asBoolean(true), o.path("window_size").asInt(14), global,
                (float) o.path("layer_norm_eps").asDouble(1e-6));
    }
}
