package org.peft4j.models.sam;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A whole SAM: encoder, prompt encoder and decoder sizes, and the pixel normalisation. Read from a
 * peft4j/official {@code config.json} ({@code image_encoder}, {@code prompt_encoder}, {@code mask_decoder}
 * with the official argument names) or from Hugging Face's {@code SamConfig} ({@code vision_config},
 * {@code prompt_encoder_config}, {@code mask_decoder_config}).
 */
public record SamConfig(SamEncoderConfig encoder, SamPromptEncoder.Config prompt, SamMaskDecoder.Config decoder,
                        float[] pixelMean, float[] pixelStd) {

    private static final float[] MEAN = {123.675f, 116.28f, 103.53f};
    private static final float[] STD = {58.395f, 57.12f, 57.375f};

    /** The official builders' sizes (decoder width 256, 3 multimask outputs, depth-2 two-way transformer). */
    private static final Map<String, SamConfig> PRESETS = new LinkedHashMap<>();

    static {
        PRESETS.put("sam-vit-b", official(768, 12, 12, List.of(2, 5, 8, 11)));
        PRESETS.put("sam-vit-l", official(1024, 24, 16, List.of(5, 11, 17, 23)));
        PRESETS.put("sam-vit-h", official(1280, 32, 16, List.of(7, 15, 23, 31)));
        // The fixture's sizes: a 64x64 input, window 5 on an 8x8 grid (so windows pad), for tests and smoke runs.
        PRESETS.put("sam-tiny", new SamConfig(new SamEncoderConfig(64, 8, 3, 64, 4, 2, 4.0, 32, true, true, true, 5,
                List.of(1, 3), 1e-6f), new SamPromptEncoder.Config(32, 8, 8, 64, 64, 16),
                new SamMaskDecoder.Config(32, 3, 2, 2, 64, 2, 3, 32), MEAN, STD));
        // The project's default SAM (pretrained on the generated shapes task): 96x96 input, 12x12 tokens,
        // windows of 6 with global blocks 2 and 5 as in the official layout, small enough to train on 2 cores.
        PRESETS.put("sam-mini", new SamConfig(new SamEncoderConfig(96, 8, 3, 96, 6, 4, 4.0, 64, true, true, true, 6,
                List.of(2, 5), 1e-6f), new SamPromptEncoder.Config(64, 12, 12, 96, 96, 16),
                new SamMaskDecoder.Config(64, 3, 2, 4, 256, 2, 3, 64), MEAN, STD));
    }

    private static SamConfig official(int width, int depth, int heads, List<Integer> global) {
        SamEncoderConfig e = SamEncoderConfig.official(width, depth, heads, global);
        return new SamConfig(e, new SamPromptEncoder.Config(256, 64, 64, 1024, 1024, 16),
                new SamMaskDecoder.Config(256, 3, 2, 8, 2048, 2, 3, 256), MEAN, STD);
    }

    public SamConfig {
        if (prompt.embedHeight() != encoder.gridSize() || prompt.embedWidth() != encoder.gridSize()
                || prompt.embedDim() != encoder.outChans() || decoder.dim() != encoder.outChans()) {
            throw new IllegalArgumentException("prompt encoder / decoder sizes do not fit the image encoder: embedding "
                    + encoder.outChans() + " x " + encoder.gridSize() + "^2, prompt " + prompt + ", decoder " + decoder);
        }
        if (pixelMean.length != encoder.inChans() || pixelStd.length != encoder.inChans()) {
            throw new IllegalArgumentException("pixel mean/std need " + encoder.inChans() + " values");
        }
    }

    public static Set<String> presets() {
        return PRESETS.keySet();
    }

    public static boolean isPreset(String name) {
        return PRESETS.containsKey(name);
    }

    public static SamConfig preset(String name) {
        SamConfig c = PRESETS.get(name);
        if (c == null) {
            throw new IllegalArgumentException("no SAM preset '" + name + "'; presets: " + PRESETS.keySet());
        }
        return c;
    }

    /** From either config.json form (see the class comment). */
    public static SamConfig fromJson(JsonNode o) {
        if (o.has("vision_config")) {
            return fromHuggingFace(o);
        }
        if (!o.has("image_encoder")) {
            throw new IllegalArgumentException("neither a SAM config (image_encoder, prompt_encoder, mask_decoder) "
                    + "nor a Hugging Face SamConfig (vision_config, ...)");
        }
        SamEncoderConfig e = SamEncoderConfig.fromJson(o.get("image_encoder"));
        JsonNode p = o.path("prompt_encoder");
        JsonNode size = p.path("image_embedding_size");
        JsonNode input = p.path("input_image_size");
        SamPromptEncoder.Config pc = new SamPromptEncoder.Config(p.path("embed_dim").asInt(e.outChans()),
                size.path(0).asInt(e.gridSize()), size.path(1).asInt(e.gridSize()), input.path(0).asInt(e.imgSize()),
                input.path(1).asInt(e.imgSize()), p.path("mask_in_chans").asInt(16));
        JsonNode d = o.path("mask_decoder");
        JsonNode t = d.path("transformer");
        SamMaskDecoder.Config dc = new SamMaskDecoder.Config(d.path("transformer_dim").asInt(e.outChans()),
                d.path("num_multimask_outputs").asInt(3), t.path("depth").asInt(2), t.path("num_heads").asInt(8),
                t.path("mlp_dim").asInt(2048), t.path("attention_downsample_rate").asInt(2),
                d.path("iou_head_depth").asInt(3), d.path("iou_head_hidden_dim").asInt(256));
        return new SamConfig(e, pc, dc, floats(o.path("pixel_mean"), MEAN), floats(o.path("pixel_std"), STD));
    }

    private static SamConfig fromHuggingFace(JsonNode o) {
        JsonNode v = o.get("vision_config");
        List<Integer> global = new ArrayList<>();
        v.path("global_attn_indexes").forEach(n -> global.add(n.asInt()));
        int width = v.path("hidden_size").asInt(768);
        SamEncoderConfig e = new SamEncoderConfig(v.path("image_size").asInt(1024), v.path("patch_size").asInt(16),
                v.path("num_channels").asInt(3), width, v.path("num_hidden_layers").asInt(12),
                v.path("num_attention_heads").asInt(12), v.path("mlp_ratio").asDouble(4.0),
                v.path("output_channels").asInt(256), v.path("qkv_bias").asBoolean(true),
                v.path("use_abs_pos").asBoolean(true), v.path("use_rel_pos").asBoolean(true),
                v.path("window_size").asInt(14), global, (float) v.path("layer_norm_eps").asDouble(1e-6));
        JsonNode p = o.path("prompt_encoder_config");
        int embed = e.imgSize() / e.patchSize();
        SamPromptEncoder.Config pc = new SamPromptEncoder.Config(p.path("hidden_size").asInt(e.outChans()),
                p.path("image_embedding_size").asInt(embed), p.path("image_embedding_size").asInt(embed),
                p.path("image_size").asInt(e.imgSize()), p.path("image_size").asInt(e.imgSize()),
                p.path("mask_input_channels").asInt(16));
        JsonNode d = o.path("mask_decoder_config");
        SamMaskDecoder.Config dc = new SamMaskDecoder.Config(d.path("hidden_size").asInt(e.outChans()),
                d.path("num_multimask_outputs").asInt(3), d.path("num_hidden_layers").asInt(2),
                d.path("num_attention_heads").asInt(8), d.path("mlp_dim").asInt(2048),
                d.path("attention_downsample_rate").asInt(2), d.path("iou_head_depth").asInt(3),
                d.path("iou_head_hidden_dim").asInt(256));
        return new SamConfig(e, pc, dc, MEAN, STD);
    }

    private static float[] floats(JsonNode n, float[] fallback) {
        if (!n.isArray()) {
            return fallback;
        }
        float[] out = new float[n.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) n.get(i).asDouble();
        }
        return out;
    }

    /** The config.json this project writes (the official argument names). */
    public Map<String, Object> toJson() {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("img_size", encoder.imgSize());
        e.put("patch_size", encoder.patchSize());
        e.put("in_chans", encoder.inChans());
        e.put("embed_dim", encoder.embedDim());
        e.put("depth", encoder.depth());
        e.put("num_heads", encoder.numHeads());
        e.put("mlp_ratio", encoder.mlpRatio());
        e.put("out_chans", encoder.outChans());
        e.put("qkv_bias", encoder.qkvBias());
        e.put("use_abs_pos", encoder.useAbsPos());
        e.put("use_rel_pos", encoder.useRelPos());
        e.put("window_size", encoder.windowSize());
        e.put("global_attn_indexes", encoder.globalAttnIndexes());
        e.put("layer_norm_eps", (double) encoder.layerNormEps());
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("embed_dim", prompt.embedDim());
        p.put("image_embedding_size", List.of(prompt.embedHeight(), prompt.embedWidth()));
        p.put("input_image_size", List.of(prompt.inputHeight(), prompt.inputWidth()));
        p.put("mask_in_chans", prompt.maskInChans());
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("depth", decoder.depth());
        t.put("embedding_dim", decoder.dim());
        t.put("mlp_dim", decoder.mlpDim());
        t.put("num_heads", decoder.heads());
        t.put("attention_downsample_rate", decoder.downsample());
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("transformer_dim", decoder.dim());
        d.put("num_multimask_outputs", decoder.multimask());
        d.put("iou_head_depth", decoder.iouDepth());
        d.put("iou_head_hidden_dim", decoder.iouHidden());
        d.put("transformer", t);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model_type", "sam");
        m.put("image_encoder", e);
        m.put("prompt_encoder", p);
        m.put("mask_decoder", d);
        m.put("pixel_mean", toList(pixelMean));
        m.put("pixel_std", toList(pixelStd));
        return m;
    }

    private static List<Double> toList(float[] v) {
        List<Double> out = new ArrayList<>();
        for (float x : v) {
            out.add((double) x);
        }
        return out;
    }
}
