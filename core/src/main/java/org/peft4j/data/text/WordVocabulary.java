package org.peft4j.data.text;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.peft4j.io.AtomicFiles;
import org.peft4j.io.Json;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A word-level vocabulary: the special tokens {@code [PAD]}=0, {@code [UNK]}=1, {@code [BOS]}=2,
 * {@code [EOS]}=3, then the words seen at least {@code minFrequency} times, most frequent first,
 * ties in alphabetical (UTF-16) order, so the same text gives the same ids everywhere.
 * {@link #writeTokenizerJson} saves it as a Hugging Face {@code tokenizer.json} that splits text as
 * {@link TextCorpus#words} does.
 */
public final class WordVocabulary {

    public static final String PAD = "[PAD]";
    public static final String UNK = "[UNK]";
    public static final String BOS = "[BOS]";
    public static final String EOS = "[EOS]";
    public static final List<String> SPECIALS = List.of(PAD, UNK, BOS, EOS);
    public static final int PAD_ID = 0;
    public static final int UNK_ID = 1;
    public static final int BOS_ID = 2;
    public static final int EOS_ID = 3;

    private final List<String> tokens;
    private final Map<String, Integer> ids;

    private WordVocabulary(List<String> tokens) {
        this.tokens = List.copyOf(tokens);
        this.ids = new HashMap<>();
        for (int i = 0; i < tokens.size(); i++) {
            ids.put(tokens.get(i), i);
        }
    }

    /**
     * Counts the tokens of every stream; keeps at most {@code maxSize} tokens in all (specials
     * included). A token spelled like a special token is counted as that special, not added twice.
     */
    public static WordVocabulary build(Iterable<? extends Iterable<String>> streams, int minFrequency, int maxSize) {
        if (minFrequency < 1) {
            throw new IllegalArgumentException("minimum frequency must be >= 1, got " + minFrequency);
        }
        if (maxSize < SPECIALS.size()) {
            throw new IllegalArgumentException("vocabulary size must be >= " + SPECIALS.size() + " (the special tokens), got " + maxSize);
        }
        Map<String, Long> counts = new HashMap<>();
        for (Iterable<String> stream : streams) {
            for (String token : stream) {
                counts.merge(token, 1L, Long::sum);
            }
        }
        List<Map.Entry<String, Long>> words = new ArrayList<>(counts.entrySet());
        words.removeIf(e -> e.getValue() < minFrequency || SPECIALS.contains(e.getKey()));
        words.sort(Map.Entry.<String, Long>comparingByValue(Comparator.reverseOrder()).thenComparing(Map.Entry.comparingByKey()));
        List<String> tokens = new ArrayList<>(SPECIALS);
        for (int i = 0; i < words.size() && tokens.size() < maxSize; i++) {
            tokens.add(words.get(i).getKey());
        }
        return new WordVocabulary(tokens);
    }

    /**
     * This vocabulary plus the {@code words} it lacks, appended in alphabetical (UTF-16) order:
     * the ids of its own tokens do not change. For words a downstream task must never see as
     * {@code [UNK]}, however rare they are in the corpus the vocabulary was counted on.
     */
    public WordVocabulary withWords(Collection<String> words) {
        List<String> out = new ArrayList<>(tokens);
        new TreeSet<>(words).stream().filter(w -> !ids.containsKey(w)).forEach(out::add);
        return new WordVocabulary(out);
    }

    public int size() {
        return tokens.size();
    }

    /** All tokens, index = id. */
    public List<String> tokens() {
        return tokens;
    }

    public String token(int id) {
        return tokens.get(id);
    }

    /** The token's id, or {@link #UNK_ID}. */
    public int id(String token) {
        return ids.getOrDefault(token, UNK_ID);
    }

    public int[] encode(List<String> words) {
        int[] out = new int[words.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = id(words.get(i));
        }
        return out;
    }

    /**
     * Writes a Hugging Face {@code tokenizer.json} (format 1.0), atomically: a WordLevel model with
     * this vocabulary and {@code [UNK]} for unknown words, a Lowercase normalizer, the Whitespace
     * pre-tokenizer ({@code \w+|[^\w\s]+}), the specials as special added tokens, no post-processor
     * (BOS/EOS are the caller's to add) and no decoder (decoding joins tokens with spaces).
     */
    public void writeTokenizerJson(Path file) throws IOException {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (String special : SPECIALS) {
            added.addObject()
                    .put("id", id(special))
                    .put("content", special)
                    .put("single_word", false)
                    .put("lstrip", false)
                    .put("rstrip", false)
                    .put("normalized", false)
                    .put("special", true);
        }
        root.putObject("normalizer").put("type", "Lowercase");
        root.putObject("pre_tokenizer").put("type", "Whitespace");
        root.putNull("post_processor");
        root.putNull("decoder");
        ObjectNode model = root.putObject("model");
        model.put("type", "WordLevel");
        ObjectNode vocab = model.putObject("vocab");
        for (int i = 0; i < tokens.size(); i++) {
            vocab.put(tokens.get(i), i);
        }
        model.put("unk_token", UNK);
        AtomicFiles.write(file, out -> Json.MAPPER.writerWithDefaultPrettyPrinter().writeValue(out, root));
    }
}
