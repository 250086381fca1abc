package org.peft4j.models.text;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import org.peft4j.io.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A model folder's {@code tokenizer.json}, through Hugging Face's tokenizers library (DJL's
 * binding; the native library ships in its jar, nothing is downloaded). Special tokens are not
 * added by the tokenizer: the callers put BOS/EOS where their task wants them.
 */
public final class TextTokenizer implements AutoCloseable {

    public static final String FILE = "tokenizer.json";
    /** Largest tokenizer.json read (GPT-2's is 1.4 MB, large multilingual ones ~20 MB). */
    private static final long MAX_BYTES = 64L << 20;

    private final HuggingFaceTokenizer tokenizer;
    private final int maxId;

    private TextTokenizer(HuggingFaceTokenizer tokenizer, int maxId) {
        this.tokenizer = tokenizer;
        this.maxId = maxId;
    }

    /** Whether {@code dir} has a tokenizer.json. */
    public static boolean exists(Path dir) {
        return Files.isRegularFile(dir.resolve(FILE));
    }

    /** Loads {@code dir/tokenizer.json} and checks that every id it can produce fits a vocabulary of {@code vocabSize}. */
    public static TextTokenizer load(Path dir, int vocabSize) throws IOException {
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + ": not found (a text prompt needs the model's tokenizer.json)");
        }
        if (Files.size(file) > MAX_BYTES) {
            throw new IOException(file + ": " + Files.size(file) + " bytes, over the " + MAX_BYTES + " accepted");
        }
        int maxId = maxId(file);
        if (maxId >= vocabSize) {
            throw new IOException(file + ": the vocabulary has id " + maxId + " but the model has only " + vocabSize
                    + " embeddings (is it the model's own tokenizer?)");
        }
        try {
            HuggingFaceTokenizer t = HuggingFaceTokenizer.builder().optTokenizerPath(file).optAddSpecialTokens(false)
                    .optTruncation(false).optPadding(false).build();
            return new TextTokenizer(t, maxId);
        } catch (RuntimeException e) {
            throw new IOException(file + ": not a tokenizer the tokenizers library reads: " + e.getMessage(), e);
        }
    }

    /** The largest id in model.vocab and added_tokens. */
    private static int maxId(Path file) throws IOException {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException(file + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IOException(file + ": expected a JSON object");
        }
        int max = -1;
        JsonNode vocab = root.path("model").path("vocab");
        if (vocab.isObject()) {
            for (var it = vocab.fields(); it.hasNext(); ) {
                max = Math.max(max, it.next().getValue().asInt());
            }
        } else if (vocab.isArray()) { // Unigram: [[piece, score], ...]
            max = vocab.size() - 1;
        } else {
            throw new IOException(file + ": no model.vocab");
        }
        for (JsonNode t : root.path("added_tokens")) {
            max = Math.max(max, t.path("id").asInt());
        }
        return max;
    }

    public long[] encode(String text) {
        Encoding e = tokenizer.encode(text);
        return e.getIds();
    }

    public String decode(long[] ids) {
        return tokenizer.decode(ids, true);
    }

    /** The id of {@code token}, or -1 when the vocabulary lacks it. */
    public long idOf(String token) {
        Encoding e = tokenizer.encode(token);
        long[] ids = e.getIds();
        String[] tokens = e.getTokens();
        return ids.length == 1 && tokens[0].equals(token) ? ids[0] : -1;
    }

    public int maxId() {
        return maxId;
    }

    @Override
    public void close() {
        tokenizer.close();
    }

    /** Ids of every token in {@code map} that the tokenizer knows, for callers that check specials. */
    Map<String, Long> ids(Iterable<String> tokens) {
        Map<String, Long> out = new java.util.LinkedHashMap<>();
        for (String t : tokens) {
            out.put(t, idOf(t));
        }
        return out;
    }
}
