package org.peft4j.models.text;

import com.fasterxml.jackson.databind.JsonNode;
import org.peft4j.io.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Sizes of a Hugging Face text model, read from {@code config.json} with transformers' field names:
 * BERT and RoBERTa ({@code hidden_size}, {@code num_hidden_layers}, ...) or GPT-2 ({@code n_embd},
 * {@code n_layer}, ...). One record for both families, so tuners and the VL model see one shape.
 *
 * @param type            the family: which block layout and which position rule
 * @param activation      {@code gelu} (exact, erf) or {@code gelu_new} (tanh approximation, GPT-2)
 * @param typeVocabSize   BERT's token-type embeddings (0: none, GPT-2)
 * @param padTokenId      RoBERTa's positions start after it; -1 when the config has none
 */
public record TextConfig(Type type, int vocabSize, int hiddenSize, int numLayers, int numHeads, int intermediateSize,
                         int maxPositions, int typeVocabSize, float layerNormEps, String activation,
                         int padTokenId, int bosTokenId, int eosTokenId) {

    /** The model families, by {@code model_type}. */
    public enum Type {
        BERT("bert"), ROBERTA("roberta"), GPT2("gpt2");

        public final String modelType;

        Type(String modelType) {
            this.modelType = modelType;
        }

        public boolean causal() {
            return this == GPT2;
        }

        static Type of(String modelType) {
            for (Type t : values()) {
                if (t.modelType.equals(modelType)) {
                    return t;
                }
            }
            throw new IllegalArgumentException("model_type '" + modelType + "' is not a supported text model (bert, roberta, gpt2)");
        }
    }

    /** Largest sizes accepted from a file before anything is allocated (GPT-2 XL is 1600 wide, 48 deep). */
    private static final long MAX_PARAMETERS = 4_000_000_000L;

    public TextConfig {
        if (vocabSize <= 0 || hiddenSize <= 0 || numLayers <= 0 || numHeads <= 0 || intermediateSize <= 0 || maxPositions <= 0) {
            throw new IllegalArgumentException("sizes must be positive: vocab_size=" + vocabSize + ", hidden_size=" + hiddenSize
                    + ", num_hidden_layers=" + numLayers + ", num_attention_heads=" + numHeads + ", intermediate_size="
                    + intermediateSize + ", max_position_embeddings=" + maxPositions);
        }
        if (hiddenSize % numHeads != 0) {
            throw new IllegalArgumentException("hidden_size " + hiddenSize + " is not a multiple of num_attention_heads " + numHeads);
        }
        if (!activation.equals("gelu") && !activation.equals("gelu_new") && !activation.equals("gelu_pytorch_tanh")) {
            throw new IllegalArgumentException("activation '" + activation + "' is not supported (gelu, gelu_new)");
        }
        long params = (long) vocabSize * hiddenSize + (long) maxPositions * hiddenSize
                + (long) numLayers * (4L * hiddenSize * hiddenSize + 2L * hiddenSize * intermediateSize);
        if (params > MAX_PARAMETERS) {
            throw new IllegalArgumentException("the sizes imply " + params + " parameters, over the " + MAX_PARAMETERS + " accepted");
        }
        if (type == Type.ROBERTA && padTokenId < 0) {
            throw new IllegalArgumentException("a RoBERTa config needs pad_token_id (its positions start after it)");
        }
        if (type == Type.ROBERTA && padTokenId + 1 >= maxPositions) {
            throw new IllegalArgumentException("pad_token_id " + padTokenId + " leaves no positions in max_position_embeddings " + maxPositions);
        }
    }

    public int headDim() {
        return hiddenSize / numHeads;
    }

    /** Whether GELU is the tanh approximation. */
    public boolean tanhGelu() {
        return !activation.equals("gelu");
    }

    /** The longest token sequence the position table covers (RoBERTa loses pad_token_id + 1 of them). */
    public int contextLength() {
        return type == Type.ROBERTA ? maxPositions - padTokenId - 1 : maxPositions;
    }

    /** A small GPT-2 of the given sizes (the project's pretrained language models). */
    public static TextConfig gpt2(int vocabSize, int width, int layers, int heads, int context) {
        return new TextConfig(Type.GPT2, vocabSize, width, layers, heads, 4 * width, context, 0, 1e-5f, "gelu_new", -1, -1, -1);
    }

    /** Named sizes for benchmarks: {@code gpt2-small} (124 M, OpenAI's smallest), {@code gpt2-mini} (the project's default size). */
    public static TextConfig preset(String name) {
        return switch (name) {
            case "gpt2-small" -> new TextConfig(Type.GPT2, 50257, 768, 12, 12, 3072, 1024, 0, 1e-5f, "gelu_new", -1, 50256, 50256);
            case "gpt2-mini" -> gpt2(8000, 64, 4, 4, 64).withSpecialTokens(0, 2, 3);
            default -> throw new IllegalArgumentException("no text preset '" + name + "'; presets: gpt2-small, gpt2-mini");
        };
    }

    public TextConfig withSpecialTokens(int pad, int bos, int eos) {
        return new TextConfig(type, vocabSize, hiddenSize, numLayers, numHeads, intermediateSize, maxPositions, typeVocabSize,
                layerNormEps, activation, pad, bos, eos);
    }

    /** Reads {@code dir/config.json}; errors name the file. */
    public static TextConfig fromDirectory(Path dir) throws IOException {
        Path file = dir.resolve("config.json");
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + ": not found (a text model folder needs config.json + model.safetensors)");
        }
        JsonNode root = Json.readFile(file); // names the file on any error
        if (root == null || !root.isObject()) {
            throw new IOException(file + ": expected a JSON object");
        }
        try {
            return fromJson(root);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    public static TextConfig fromJson(JsonNode o) {
        Type type = Type.of(o.path("model_type").asText(""));
        if (type == Type.GPT2) {
            int width = requireInt(o, "n_embd");
            JsonNode inner = o.get("n_inner");
            int innerSize = inner == null || inner.isNull() ? 4 * width : inner.asInt();
            if (o.has("tie_word_embeddings") && !o.get("tie_word_embeddings").asBoolean(true)) {
                throw new IllegalArgumentException("tie_word_embeddings=false is not supported for gpt2 (the lm_head is the token embedding)");
            }
            return new TextConfig(type, requireInt(o, "vocab_size"), width, requireInt(o, "n_layer"), requireInt(o, "n_head"),
                    innerSize, requireInt(o, "n_positions"), 0, (float) o.path("layer_norm_epsilon").asDouble(1e-5),
                    o.path("activation_function").asText("gelu_new"), o.path("pad_token_id").asInt(-1),
                    o.path("bos_token_id").asInt(-1), o.path("eos_token_id").asInt(-1));
        }
        String posType = o.path("position_embedding_type").asText("absolute");
        if (!posType.equals("absolute")) {
            throw new IllegalArgumentException("position_embedding_type '" + posType + "' is not supported (absolute)");
        }
        return new TextConfig(type, requireInt(o, "vocab_size"), requireInt(o, "hidden_size"), requireInt(o, "num_hidden_layers"),
                requireInt(o, "num_attention_heads"), requireInt(o, "intermediate_size"), requireInt(o, "max_position_embeddings"),
                o.path("type_vocab_size").asInt(2), (float) o.path("layer_norm_eps").asDouble(1e-12),
                o.path("hidden_act").asText("gelu"), o.path("pad_token_id").asInt(type == Type.ROBERTA ? 1 : 0),
                o.path("bos_token_id").asInt(-1), o.path("eos_token_id").asInt(-1));
    }

    private static int requireInt(JsonNode o, String field) {
        JsonNode v = o.get(field);
        if (v == null || !v.canConvertToInt()) {
            throw new IllegalArgumentException("missing or non-integer '" + field + "'");
        }
        return v.asInt();
    }

    /** config.json as transformers writes it for this family. */
    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        if (type == Type.GPT2) {
            m.put("architectures", List.of("GPT2LMHeadModel"));
            m.put("model_type", "gpt2");
            m.put("vocab_size", vocabSize);
            m.put("n_positions", maxPositions);
            m.put("n_embd", hiddenSize);
            m.put("n_layer", numLayers);
            m.put("n_head", numHeads);
            m.put("n_inner", intermediateSize == 4 * hiddenSize ? null : intermediateSize);
            m.put("activation_function", activation);
            m.put("layer_norm_epsilon", Double.parseDouble(Float.toString(layerNormEps))); // 1e-05, not 9.99e-06
            m.put("resid_pdrop", 0.0);
            m.put("embd_pdrop", 0.0);
            m.put("attn_pdrop", 0.0);
            m.put("tie_word_embeddings", true);
        } else {
            m.put("architectures", List.of(type == Type.BERT ? "BertModel" : "RobertaModel"));
            m.put("model_type", type.modelType);
            m.put("vocab_size", vocabSize);
            m.put("hidden_size", hiddenSize);
            m.put("num_hidden_layers", numLayers);
            m.put("num_attention_heads", numHeads);
            m.put("intermediate_size", intermediateSize);
            m.put("hidden_act", activation);
            m.put("max_position_embeddings", maxPositions);
            m.put("type_vocab_size", typeVocabSize);
            m.put("layer_norm_eps", Double.parseDouble(Float.toString(layerNormEps)));
            m.put("hidden_dropout_prob", 0.0);
            m.put("attention_probs_dropout_prob", 0.0);
            m.put("position_embedding_type", "absolute");
        }
        if (padTokenId >= 0) {
            m.put("pad_token_id", padTokenId);
        }
        if (bosTokenId >= 0) {
            m.put("bos_token_id", bosTokenId);
        }
        if (eosTokenId >= 0) {
            m.put("eos_token_id", eosTokenId);
        }
        m.put("torch_dtype", "float32");
        return m;
    }
}
