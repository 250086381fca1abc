package org.peft4j.cli;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import org.peft4j.io.Json;
import org.peft4j.models.text.TextConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A model folder's {@code tokenizer.json}, read with the Hugging Face tokenizers library (local file
 * only, no special tokens added). Before the native library sees the file, its vocabulary is read
 * with Jackson and must fit the model: a tokenizer of another model would otherwise produce ids the
 * embedding table does not have, or decode ids into the wrong words.
 */
final class TextTokenizer implements AutoCloseable {

    static final String FILE = "tokenizer.json";

    private final Path file;
    private final HuggingFaceTokenizer tokenizer;

    private TextTokenizer(Path file, HuggingFaceTokenizer tokenizer) {
        this.file = file;
        this.tokenizer = tokenizer;
    }

    /** The folder's tokenizer.json, or null when it has none. */
    static TextTokenizer openIfPresent(Path modelDir, TextConfig config) {
        Path file = modelDir.resolve(FILE);
        if (!Files.exists(file)) {
            return null;
        }
        long maxId = maxId(file);
        if (maxId >= config.vocabSize()) {
            throw new UsageException(file + ": its vocabulary has ids up to " + maxId + " but the model's vocab_size is "
                    + config.vocabSize() + " (a tokenizer of another model?)");
        }
        try {
            return new TextTokenizer(file, HuggingFaceTokenizer.builder().optTokenizerPath(file).optAddSpecialTokens(false).build());
        } catch (IOException | RuntimeException e) {
            throw new UsageException(file + ": cannot be loaded as a tokenizer: " + firstLine(e));
        }
    }

    /**
     * The largest id of model.vocab (BPE, WordPiece, WordLevel: token → id; Unigram: a list whose
     * index is the id) and of added_tokens.
     */
    private static long maxId(Path file) {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(file.toFile());
        } catch (IOException e) {
            throw new UsageException(file + ": not a readable tokenizer.json: " + firstLine(e));
        }
        JsonNode vocab = root == null ? null : root.path("model").get("vocab");
        if (vocab == null || !(vocab.isObject() || vocab.isArray()) || vocab.isEmpty()) {
            throw new UsageException(file + ": no model.vocab (not a Hugging Face tokenizer.json)");
        }
        long max = -1;
        if (vocab.isArray()) {
            max = vocab.size() - 1L;
        } else {
            for (JsonNode id : (Iterable<JsonNode>) vocab::elements) {
                if (!id.canConvertToLong()) {
                    throw new UsageException(file + ": model.vocab has a non-integer id " + id);
                }
                max = Math.max(max, id.asLong());
            }
        }
        for (JsonNode added : root.path("added_tokens")) {
            JsonNode id = added.get("id");
            if (id == null || !id.canConvertToLong()) {
                throw new UsageException(file + ": an added_tokens entry has no integer id: " + added);
            }
            max = Math.max(max, id.asLong());
        }
        return max;
    }

    /** Token ids of {@code text}; none is an error. */
    long[] encode(String text) {
        long[] ids;
        try {
            ids = tokenizer.encode(text).getIds();
        } catch (RuntimeException e) {
            throw new UsageException(file + ": cannot encode --prompt: " + firstLine(e));
        }
        if (ids.length == 0) {
            throw new UsageException("--prompt '" + text + "' gives no tokens with " + file);
        }
        return ids;
    }

    /** Text of {@code ids} with {@code eos} (when ≥ 0) and other special tokens left out. */
    String decode(long[] ids, long eos) {
        long[] kept = Arrays.stream(ids).filter(id -> id != eos).toArray();
        return tokenizer.decode(kept, true);
    }

    @Override
    public void close() {
        tokenizer.close();
    }

    private static String firstLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.lines().findFirst().orElse(m).strip();
    }
}
