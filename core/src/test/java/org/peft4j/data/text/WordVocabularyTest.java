package org.peft4j.data.text;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.io.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Vocabulary order (specials, frequency, alphabet), limits, and a tokenizer.json that DJL's Hugging Face tokenizer reads. */
class WordVocabularyTest {

    private static final List<List<String>> STREAMS = List.of(
            TextCorpus.words("The cat sat on the mat."),
            TextCorpus.words("The dog sat on the log!"),
            List.of("[UNK]", "the"));

    @Test
    void specialsFirstThenFrequencyThenAlphabet() {
        WordVocabulary v = WordVocabulary.build(STREAMS, 1, 100);
        assertEquals(List.of("[PAD]", "[UNK]", "[BOS]", "[EOS]", "the", "on", "sat", "!", ".", "cat", "dog", "log", "mat"),
                v.tokens());
        assertEquals(4, v.id("the"));
        assertEquals(WordVocabulary.UNK_ID, v.id("zebra"));
        WordVocabulary frequent = WordVocabulary.build(STREAMS, 2, 100);
        assertEquals(List.of("[PAD]", "[UNK]", "[BOS]", "[EOS]", "the", "on", "sat"), frequent.tokens());
        assertEquals(List.of("[PAD]", "[UNK]", "[BOS]", "[EOS]", "the", "on"), WordVocabulary.build(STREAMS, 1, 6).tokens());
        assertThrows(IllegalArgumentException.class, () -> WordVocabulary.build(STREAMS, 1, 3));
        assertThrows(IllegalArgumentException.class, () -> WordVocabulary.build(STREAMS, 0, 10));
    }

    @Test
    void withWordsAppendsOnlyMissingWordsKeepingIds() {
        WordVocabulary v = WordVocabulary.build(STREAMS, 2, 100);
        WordVocabulary plus = v.withWords(List.of("zebra", "sat", "cat", "zebra"));
        assertEquals(List.of("[PAD]", "[UNK]", "[BOS]", "[EOS]", "the", "on", "sat", "cat", "zebra"), plus.tokens());
        assertEquals(v.id("sat"), plus.id("sat"));
        assertEquals(8, plus.id("zebra"));
        assertEquals(v.tokens(), v.withWords(List.of()).tokens());
    }

    @Test
    void writesATokenizerJsonThatHuggingFaceReads(@TempDir Path dir) throws IOException {
        WordVocabulary v = WordVocabulary.build(STREAMS, 1, 100);
        Path file = dir.resolve("tok/tokenizer.json");
        v.writeTokenizerJson(file);
        try (Stream<Path> files = Files.list(file.getParent())) {
            assertEquals(List.of(file), files.toList(), "no temporary file left behind");
        }
        JsonNode json = Json.MAPPER.readTree(file.toFile());
        assertEquals("1.0", json.get("version").asText());
        assertEquals("WordLevel", json.at("/model/type").asText());
        assertEquals("[UNK]", json.at("/model/unk_token").asText());
        assertEquals(4, json.at("/model/vocab/the").asInt());
        assertEquals("[EOS]", json.at("/added_tokens/3/content").asText());
        assertEquals(true, json.at("/added_tokens/3/special").asBoolean());

        String sentence = "The zebra sat on the MAT!";
        long[] expected = Arrays.stream(v.encode(TextCorpus.words(sentence))).asLongStream().toArray();
        assertArrayEquals(new long[] {4, 1, 6, 5, 4, 12, 7}, expected);
        try (HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.builder().optTokenizerPath(file).optAddSpecialTokens(false).build()) {
            Encoding encoding = tokenizer.encode(sentence);
            assertArrayEquals(expected, encoding.getIds());
            assertArrayEquals(new String[] {"the", "[UNK]", "sat", "on", "the", "mat", "!"}, encoding.getTokens());
        }
    }
}
