package org.peft4j.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.ManagedTest;
import org.peft4j.data.text.WordVocabulary;
import org.peft4j.io.Json;
import org.peft4j.models.text.Gpt2Model;
import org.peft4j.models.text.TextCheckpoint;
import org.peft4j.models.text.TextConfig;
import org.peft4j.models.text.TextTokenizer;
import org.peft4j.nn.Module;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A tiny recipe on a made-up fortune folder: the cached folder, its loss going down, cache reuse, a missing corpus. */
class LanguageModelPretrainingTest extends ManagedTest {

    private static final LanguageModelPretraining.Recipe TINY = new LanguageModelPretraining.Recipe(
            Path.of("unused"), 1, 200, 16, 1, 2, 16, 8, 30, 3, 1e-2, 0.01, 1, 5);

    /** Three fortune files of short sentences from a small grammar, so 30 steps learn something. */
    private static Path corpus(Path dir) throws IOException {
        Files.createDirectories(dir);
        String[] subjects = {"the cat", "a dog", "my friend", "the old man", "a wise owl"};
        String[] verbs = {"sat on", "looked at", "ran to", "dreamed of", "laughed at"};
        String[] objects = {"the mat.", "a tree.", "the moon.", "the river.", "a small house."};
        Random random = new Random(3);
        for (String file : List.of("alpha", "beta", "gamma")) {
            List<String> fortunes = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                StringBuilder s = new StringBuilder();
                for (int k = 0; k < 1 + random.nextInt(3); k++) {
                    s.append(subjects[random.nextInt(5)]).append(' ').append(verbs[random.nextInt(5)]).append(' ')
                            .append(objects[random.nextInt(5)]).append('\n');
                }
                fortunes.add(s.toString());
            }
            Files.writeString(dir.resolve(file), String.join("%\n", fortunes));
            Files.writeString(dir.resolve(file + ".dat"), "index, not text");
        }
        return dir;
    }

    @Test
    void pretrainsCachesAndReuses(@TempDir Path tmp) throws IOException {
        LanguageModelPretraining.Recipe recipe = TINY.withCorpusDir(corpus(tmp.resolve("fortunes")));
        Path cache = tmp.resolve("cache");
        Path dir = LanguageModelPretraining.ensure(cache, recipe, false);
        assertEquals(cache.resolve(LanguageModelPretraining.CACHE_NAME), dir);
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json", "pretraining.json")) {
            assertTrue(Files.isRegularFile(dir.resolve(f)), f);
        }
        try (var entries = Files.list(cache)) {
            assertEquals(List.of(dir), entries.toList(), "no temporary folder left behind");
        }

        TextConfig config = TextConfig.fromDirectory(dir);
        assertEquals(TextConfig.Type.GPT2, config.type());
        assertEquals(16, config.hiddenSize());
        assertEquals(16, config.maxPositions());
        assertEquals(List.of(0, 2, 3), List.of(config.padTokenId(), config.bosTokenId(), config.eosTokenId()));
        Module model = TextCheckpoint.load(dir, manager);
        assertInstanceOf(Gpt2Model.class, model);
        try (TextTokenizer tokenizer = TextTokenizer.load(dir, config.vocabSize())) {
            // Corpus words and the built-in VL tasks' words are all known.
            for (String text : List.of("The cat sat on the mat.", "what shape is the object closest to the red object",
                    "how many objects have the same shape as the yellow object", "yes", "6",
                    "there is a white square to the right of a orange circle on a black background")) {
                long[] ids = tokenizer.encode(text);
                assertFalse(Arrays.stream(ids).anyMatch(id -> id == WordVocabulary.UNK_ID), text + " -> " + Arrays.toString(ids));
            }
            assertEquals(WordVocabulary.BOS_ID, tokenizer.idOf(WordVocabulary.BOS));
        }

        JsonNode record = Json.MAPPER.readTree(dir.resolve("pretraining.json").toFile());
        double before = record.get("initial_validation_loss").asDouble();
        double after = record.get("final_validation_loss").asDouble();
        assertTrue(after < before, "validation loss " + before + " -> " + after);
        assertEquals(Math.exp(after), record.get("validation_perplexity").asDouble(), 1e-6 * Math.exp(after));
        assertEquals(30, record.get("steps").asInt());
        assertTrue(record.get("tokens_per_second").asDouble() > 0);
        assertTrue(record.get("sample_greedy_no_unk").asText().startsWith("the "), record.get("sample_greedy_no_unk").asText());

        byte[] weights = Files.readAllBytes(dir.resolve("model.safetensors"));
        byte[] recordBytes = Files.readAllBytes(dir.resolve("pretraining.json"));
        var modified = Files.getLastModifiedTime(dir.resolve("model.safetensors"));
        // A recipe that could not train (no corpus) proves the second call does not try.
        Path again = LanguageModelPretraining.ensure(cache, recipe.withCorpusDir(tmp.resolve("gone")), false);
        assertEquals(dir, again);
        assertArrayEquals(weights, Files.readAllBytes(dir.resolve("model.safetensors")));
        assertArrayEquals(recordBytes, Files.readAllBytes(dir.resolve("pretraining.json")));
        assertEquals(modified, Files.getLastModifiedTime(dir.resolve("model.safetensors")));
    }

    @Test
    void missingCorpusNamesTheFolder(@TempDir Path tmp) {
        Path missing = tmp.resolve("no-fortunes-here");
        IOException e = assertThrows(IOException.class,
                () -> LanguageModelPretraining.ensure(tmp.resolve("cache"), TINY.withCorpusDir(missing), false));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("cache").resolve(LanguageModelPretraining.CACHE_NAME)));
    }

    @Test
    void gatheredCrossEntropyMatchesTheOneHotOne() {
        Random random = new Random(11);
        float[] values = new float[5 * 7];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian() * 2;
        }
        int[] labels = {3, 0, 6, 6, 1};
        float[] losses = new float[2];
        float[][] grads = new float[2][];
        for (int k = 0; k < 2; k++) {
            try (NDManager sub = manager.newSubManager()) {
                NDArray logits = sub.create(values, new Shape(5, 7));
                logits.setRequiresGradient(true);
                try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                    NDArray loss = k == 0 ? Trainer.crossEntropy(logits, labels)
                            : LanguageModelPretraining.tokenCrossEntropy(logits,
                                    sub.create(Arrays.stream(labels).asLongStream().toArray(), new Shape(5, 1)));
                    collector.backward(loss);
                    losses[k] = loss.getFloat();
                }
                grads[k] = logits.getGradient().toFloatArray();
            }
        }
        assertEquals(losses[0], losses[1], 1e-6);
        assertArrayEquals(grads[0], grads[1], 1e-6f);
    }

    @Test
    void windowsCoverTheStreamWithNextTokens() throws IOException {
        int[] stream = {2, 10, 11, 12, 3, 2, 13, 3};
        int[][] w = LanguageModelPretraining.windows(stream, 3, "test");
        assertArrayEquals(new int[][] {{2, 10, 11, 12}, {12, 3, 2, 13}}, w);
        assertArrayEquals(new int[][] {{2, 10, 11, 12, 3, 2, 13, 3}}, LanguageModelPretraining.windows(stream, 64, "test"));
        assertThrows(IOException.class, () -> LanguageModelPretraining.windows(new int[] {2}, 3, "test"));
    }
}
