package org.peft4j.models.text;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import org.peft4j.io.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

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

    private TextTokenizer(HuggingFaceTokenizer tokenizer) {
        this.tokenizer = tokenizer;
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
            throw new IOException(file + ": its vocabulary has ids up to " + maxId + " but the model's vocab_size is " + vocabSize
                    + " (a tokenizer of another model?)");
        }
        try {
            HuggingFaceTokenizer t = HuggingFaceTokenizer.builder().optTokenizerPath(file).optAddSpecialTokens(false)
                    .optTruncation(false).optPadding(false).build();
            return new TextTokenizer(t);
        } catch (RuntimeException e) {
            throw new IOException(file + ": not a tokenizer the tokenizers library reads: " + e.getMessage(), e);
        }
    }

    /** The largest id in model.vocab and added_tokens. */
    private static int maxId(Path file) throws IOException {
        JsonNode root = Json.readFile(file); // names the file on any error
        if (root == null || !root.isObject()) {
            throw new IOException(file + ": expected a JSON object");
        }
        JsonNode vocab = root.path("model").get("vocab");
        if (vocab == null || !(vocab.isObject() || vocab.isArray()) || vocab.isEmpty()) {
            throw new IOException(file + ": no model.vocab (not a Hugging Face tokenizer.json)");
        }
        int max = -1;
        if (vocab.isArray()) { // Unigram: [[piece, score], ...], the index is the id
            max = vocab.size() - 1;
        } else { // BPE, WordPiece, WordLevel: token → id
            for (JsonNode id : (Iterable<JsonNode>) vocab::elements) {
                if (!id.canConvertToInt()) {
                    throw new IOException(file + ": model.vocab has a non-integer id " + id);
                }
                max = Math.max(max, id.asInt());
            }
        }
        for (JsonNode added : root.path("added_tokens")) {
            JsonNode id = added.get("id");
            if (id == null || !id.canConvertToInt()) {
                throw new IOException(file + ": an added_tokens entry has no integer id: " + added);
            }
            max = Math.max(max, id.asInt());
        }
        return max;
    }

    public long[] encode(String text) {
        Encoding e = tokenizer.encode(text);
        return e.getIds();
    }

    /** Text of {@code ids}, special tokens left out. */
    public String decode(long[] ids) {
        return tokenizer.decode(ids, true);
    }

    /** Text of {@code ids} with {@code eos} (when ≥ 0) and other special tokens left out. */
    public String decode(long[] ids, long eos) {
        return decode(java.util.Arrays.stream(ids).filter(id -> id != eos).toArray());
    }

    /** The id of {@code token}, or -1 when the vocabulary lacks it. */
    public long idOf(String token) {
        Encoding e = tokenizer.encode(token);
        long[] ids = e.getIds();
        String[] tokens = e.getTokens();
        return ids.length == 1 && tokens[0].equals(token) ? ids[0] : -1;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
