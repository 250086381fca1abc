package org.peft4j.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.Fixtures;
import org.peft4j.io.Json;
import org.peft4j.io.SafetensorsReader;
import org.peft4j.models.text.Gpt2Model;
import org.peft4j.models.text.TextCheckpoint;
import org.peft4j.nn.ForwardContext;
import org.peft4j.peft.PeftModel;
import org.peft4j.tuners.TargetModules;
import org.peft4j.tuners.lora.LoraConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.peft4j.Fixtures.assertClose;
import static org.peft4j.cli.CliTest.cli;

/**
 * {@code predict --input-ids} and {@code generate} on the text fixtures (tools/make_text_fixtures.py):
 * golden logits and hidden states, the golden greedy continuation with and without the cache, beam
 * search, a word-level tokenizer.json, a LoRA adapter with PEFT's fan_in_fan_out, and every kind of
 * bad input as one line on stderr, exit code 2 and nothing written.
 */
class TextCliTest {

    private static final Path TEXT = Path.of("src/test/resources/fixtures/text");
    private static final Path GPT2 = TEXT.resolve("gpt2-tiny");
    private static final float TOL = 2e-5f;

    private static long[] longs(Path model, String name) throws IOException {
        try (SafetensorsReader r = SafetensorsReader.open(model.resolve("golden.safetensors"))) {
            return r.readLongs(name);
        }
    }

    private static float[] floats(Path file, String name) throws IOException {
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            return r.readFloats(name);
        }
    }

    private static long[] shape(Path file, String name) throws IOException {
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            return r.info(name).shape();
        }
    }

    private static String joined(long[] ids) {
        return LongStream.of(ids).mapToObj(Long::toString).collect(Collectors.joining(","));
    }

    /** The golden prompt [0,8,15,36,58] and its 10 greedy tokens [58,42,42,57,57,6,6,9,3,53] (no 0 = eos among them). */
    private static long[][] goldenGreedy() throws IOException {
        long[] prompt = longs(GPT2, "prompt_ids");
        long[] all = longs(GPT2, "greedy_ids");
        return new long[][] {prompt, Arrays.copyOfRange(all, prompt.length, all.length)};
    }

    private static long[] ids(CliTest.Run r) throws IOException {
        assertEquals(1, r.lines().size(), r.out());
        JsonNode ids = Json.MAPPER.readTree(r.lines().get(0)).get("ids");
        long[] out = new long[ids.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ids.get(i).asLong();
        }
        return out;
    }

    /** A copy of gpt2-tiny (config.json + model.safetensors) to add files to or break. */
    private static Path copyOf(Path model, Path dir) throws IOException {
        return Fixtures.copyFiles(model, dir, "config.json", "model.safetensors");
    }

    /** A WordLevel tokenizer.json: id 0 is the special token {@code <eos>}, ids 1.. are words {@code w1}, {@code w2}, .... */
    private static void wordTokenizer(Path dir, int size, int addedId) throws IOException {
        Map<String, Object> vocab = new LinkedHashMap<>();
        vocab.put("<eos>", 0);
        for (int i = 1; i < size; i++) {
            vocab.put("w" + i, i);
        }
        Map<String, Object> added = new LinkedHashMap<>();
        added.put("id", addedId);
        added.put("content", "<eos>");
        added.put("single_word", false);
        added.put("lstrip", false);
        added.put("rstrip", false);
        added.put("normalized", false);
        added.put("special", true);
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "WordLevel");
        model.put("vocab", vocab);
        model.put("unk_token", "<eos>");
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("version", "1.0");
        json.put("truncation", null);
        json.put("padding", null);
        json.put("added_tokens", List.of(added));
        json.put("normalizer", null);
        json.put("pre_tokenizer", Map.of("type", "Whitespace"));
        json.put("post_processor", null);
        json.put("decoder", null);
        json.put("model", model);
        Files.writeString(dir.resolve("tokenizer.json"), Json.MAPPER.writeValueAsString(json));
    }

    /** Exit code 2, one line on stderr that contains {@code expected}, nothing on stdout. */
    private static void usageError(CliTest.Run r, String expected) {
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains(expected), "expected '" + expected + "' in: " + r.err());
        assertTrue(r.lines().isEmpty(), r.out());
    }

    @Test
    void predictGpt2InputIdsMatchesGoldenLogits(@TempDir Path tmp) throws IOException {
        long[] all = longs(GPT2, "input_ids"); // [2, 9]
        long[] row = Arrays.copyOf(all, 9);
        Path out = tmp.resolve("logits.safetensors");
        CliTest.Run r = cli("predict", "--model", GPT2.toString(), "--input-ids", joined(row), "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(1, r.lines().size(), r.out());
        JsonNode line = Json.MAPPER.readTree(r.lines().get(0));
        assertEquals("gpt2", line.get("model_type").asText());
        assertEquals(9, line.get("tokens").asInt());
        assertEquals(out.toString(), line.get("output").asText());
        assertEquals("logits", line.get("tensor").asText());
        assertEquals("[1,9,61]", line.get("shape").toString());
        assertArrayEquals(new long[] {1, 9, 61}, shape(out, "logits"));
        assertClose(Arrays.copyOf(floats(GPT2.resolve("golden.safetensors"), "logits"), 9 * 61), floats(out, "logits"), TOL);
        try (SafetensorsReader reader = SafetensorsReader.open(out)) {
            assertArrayEquals(row, reader.readLongs("input_ids"));
        }
        // The legacy OpenAI key layout gives the same logits.
        Path legacy = tmp.resolve("legacy.safetensors");
        r = cli("predict", "--model", TEXT.resolve("gpt2-tiny-legacy").toString(), "--input-ids", joined(row),
                "--output", legacy.toString());
        assertEquals(0, r.code(), r.err());
        assertClose(floats(out, "logits"), floats(legacy, "logits"), 0f);
    }

    @Test
    void predictEncodersWriteLastHiddenState(@TempDir Path tmp) throws IOException {
        for (String name : List.of("bert-tiny", "roberta-tiny")) {
            Path model = TEXT.resolve(name);
            long[] row = Arrays.copyOf(longs(model, "input_ids"), 8); // the unpadded first row
            Path out = tmp.resolve(name + ".safetensors");
            CliTest.Run r = cli("predict", "--model", model.toString(), "--input-ids", joined(row), "--output", out.toString());
            assertEquals(0, r.code(), r.err());
            JsonNode line = Json.MAPPER.readTree(r.lines().get(0));
            assertEquals(name.replace("-tiny", ""), line.get("model_type").asText());
            assertEquals("last_hidden_state", line.get("tensor").asText());
            assertEquals("[1,8,32]", line.get("shape").toString());
            assertArrayEquals(new long[] {1, 8, 32}, shape(out, "last_hidden_state"));
            float[] golden = floats(model.resolve("golden.safetensors"), "last_hidden_state");
            assertClose(Arrays.copyOf(golden, 8 * 32), floats(out, "last_hidden_state"), TOL);
        }
    }

    @Test
    void predictRefusesAnExistingOutputUnlessOverwriteAndNeverAnInput(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("o.safetensors");
        Files.writeString(out, "keep");
        usageError(cli("predict", "--model", GPT2.toString(), "--input-ids", "1,2", "--output", out.toString()), "--overwrite");
        assertEquals("keep", Files.readString(out));
        assertEquals(0, cli("predict", "--model", GPT2.toString(), "--input-ids", "1,2", "--output", out.toString(),
                "--overwrite").code());
        assertArrayEquals(new long[] {1, 2, 61}, shape(out, "logits"));

        Path model = copyOf(GPT2, tmp.resolve("m"));
        byte[] weights = Files.readAllBytes(model.resolve("model.safetensors"));
        usageError(cli("predict", "--model", model.toString(), "--input-ids", "1,2", "--output",
                model.resolve("model.safetensors").toString(), "--overwrite"), "inputs");
        assertArrayEquals(weights, Files.readAllBytes(model.resolve("model.safetensors")));
        usageError(cli("predict", "--model", model.toString(), "--input-ids", "1,2", "--output",
                model.resolve("x/../config.json").toString(), "--overwrite"), "inputs");
        usageError(cli("predict", "--model", model.toString(), "--input-ids", "1,2", "--output", tmp.toString()), "folder");
    }

    @Test
    void generateGreedyGivesTheGoldenContinuationWithAndWithoutCache() throws IOException {
        long[][] golden = goldenGreedy();
        assertTrue(LongStream.of(golden[1]).noneMatch(id -> id == 0), "gpt2-tiny's eos 0 is not in the golden continuation");
        for (boolean noCache : new boolean[] {false, true}) {
            List<String> args = new ArrayList<>(List.of("generate", "--model", GPT2.toString(), "--prompt-ids", joined(golden[0]),
                    "--max-new-tokens", "10"));
            if (noCache) {
                args.add("--no-cache");
            }
            CliTest.Run r = cli(args.toArray(String[]::new));
            assertEquals(0, r.code(), r.err());
            assertArrayEquals(golden[1], ids(r), "no-cache " + noCache);
            assertFalse(Json.MAPPER.readTree(r.lines().get(0)).has("text"), "no tokenizer.json, no text");
        }
    }

    @Test
    void generateStopsAtEosAndKeepsItInIds(@TempDir Path tmp) throws IOException {
        long[][] golden = goldenGreedy();
        // With eos = the 3rd generated token (42 first appears 2nd), generation stops right after emitting it.
        Path model = copyOf(GPT2, tmp.resolve("eos42"));
        ObjectNode config = (ObjectNode) Json.MAPPER.readTree(model.resolve("config.json").toFile());
        config.put("eos_token_id", 42);
        Files.writeString(model.resolve("config.json"), Json.MAPPER.writeValueAsString(config));
        CliTest.Run r = cli("generate", "--model", model.toString(), "--prompt-ids", joined(golden[0]), "--max-new-tokens", "10");
        assertEquals(0, r.code(), r.err());
        assertArrayEquals(new long[] {58, 42}, ids(r));
        assertArrayEquals(Arrays.copyOf(golden[1], 2), ids(r));
    }

    @Test
    void generateBeamSearch() throws IOException {
        long[][] golden = goldenGreedy();
        CliTest.Run r = cli("generate", "--model", GPT2.toString(), "--prompt-ids", joined(golden[0]), "--max-new-tokens", "10",
                "--beams", "3");
        assertEquals(0, r.code(), r.err());
        long[] ids = ids(r);
        assertTrue(ids.length >= 1 && ids.length <= 10, Arrays.toString(ids));
        assertTrue(LongStream.of(ids).allMatch(id -> id >= 0 && id < 61), Arrays.toString(ids));
    }

    @Test
    void wordLevelTokenizerGivesPromptAndText(@TempDir Path tmp) throws IOException {
        long[][] golden = goldenGreedy();
        Path model = copyOf(GPT2, tmp.resolve("with-tokenizer"));
        wordTokenizer(model, 61, 0);
        String prompt = "<eos> " + LongStream.of(golden[0]).skip(1).mapToObj(id -> "w" + id).collect(Collectors.joining(" "));
        String expectedText = LongStream.of(golden[1]).mapToObj(id -> "w" + id).collect(Collectors.joining(" "));
        for (List<String> input : List.of(List.of("--prompt", prompt), List.of("--prompt-ids", joined(golden[0])))) {
            List<String> args = new ArrayList<>(List.of("generate", "--model", model.toString(), "--max-new-tokens", "10"));
            args.addAll(input);
            CliTest.Run r = cli(args.toArray(String[]::new));
            assertEquals(0, r.code(), r.err());
            assertArrayEquals(golden[1], ids(r), input.toString());
            assertEquals(expectedText, Json.MAPPER.readTree(r.lines().get(0)).get("text").asText(), input.toString());
        }
        // an eos (here 42) ends the ids and is left out of the text
        ObjectNode config = (ObjectNode) Json.MAPPER.readTree(model.resolve("config.json").toFile());
        config.put("eos_token_id", 42);
        Files.writeString(model.resolve("config.json"), Json.MAPPER.writeValueAsString(config));
        CliTest.Run r = cli("generate", "--model", model.toString(), "--prompt", prompt, "--max-new-tokens", "10");
        assertEquals(0, r.code(), r.err());
        assertArrayEquals(new long[] {58, 42}, ids(r));
        assertEquals("w58", Json.MAPPER.readTree(r.lines().get(0)).get("text").asText());
    }

    @Test
    void loraAdapterWithFanInFanOutIsApplied(@TempDir Path tmp) throws IOException {
        Path adapter = tmp.resolve("lora");
        long[] row = {3, 49, 14, 12, 41};
        float[] expected;
        try (NDManager manager = NDManager.newBaseManager()) {
            Gpt2Model gpt2 = (Gpt2Model) TextCheckpoint.load(GPT2, manager);
            PeftModel peft = new PeftModel(gpt2, "lm_head", manager);
            peft.addAdapter("default", LoraConfig.of(4, 8, TargetModules.of("c_attn", "c_fc")).withInit(LoraConfig.Init.RANDOM));
            peft.save(adapter, "default");
            NDArray x = manager.create(row, new Shape(1, row.length));
            expected = gpt2.forward(x, ForwardContext.INFERENCE).toFloatArray();
        }
        // PEFT writes fan_in_fan_out=true for GPT-2's Conv1D layers; lora_A/lora_B shapes are the same.
        ObjectNode config = (ObjectNode) Json.MAPPER.readTree(adapter.resolve("adapter_config.json").toFile());
        config.put("fan_in_fan_out", true);
        Files.writeString(adapter.resolve("adapter_config.json"), Json.MAPPER.writeValueAsString(config));

        Path base = tmp.resolve("base.safetensors");
        Path adapted = tmp.resolve("adapted.safetensors");
        assertEquals(0, cli("predict", "--model", GPT2.toString(), "--input-ids", joined(row), "--output", base.toString()).code());
        CliTest.Run r = cli("predict", "--model", GPT2.toString(), "--adapter", adapter.toString(), "--input-ids", joined(row),
                "--output", adapted.toString());
        assertEquals(0, r.code(), r.err());
        assertClose(expected, floats(adapted, "logits"), 1e-5f);
        assertTrue(Fixtures.maxAbsDiff(floats(base, "logits"), expected) > 1e-2, "the adapter changes the logits");

        r = cli("generate", "--model", GPT2.toString(), "--adapter", adapter.toString(), "--prompt-ids", joined(row),
                "--max-new-tokens", "5");
        assertEquals(0, r.code(), r.err());
        assertEquals(5, ids(r).length);
        usageError(cli("predict", "--model", GPT2.toString(), "--adapter", adapter.toString(), "--input-ids", "1",
                "--output", adapter.resolve("adapter_model.safetensors").toString(), "--overwrite"), "inputs");
    }

    @Test
    void badPredictInputGivesExitTwoAndWritesNothing(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("out.safetensors");
        String gpt2 = GPT2.toString();
        String o = out.toString();
        String tooLong = IntStream.range(0, 25).mapToObj(i -> "1").collect(Collectors.joining(","));
        Path broken = copyOf(GPT2, tmp.resolve("broken"));
        Files.write(broken.resolve("model.safetensors"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
        Path noWeights = copyOf(GPT2, tmp.resolve("no-weights"));
        Files.delete(noWeights.resolve("model.safetensors"));
        Path badConfig = copyOf(GPT2, tmp.resolve("bad-config"));
        Files.writeString(badConfig.resolve("config.json"), "{\"model_type\": \"gpt2\", \"n_embd\": ");
        Path emptyDir = Files.createDirectories(tmp.resolve("empty"));
        String vitInputs = Fixtures.vitTiny("inputs.safetensors").toString();

        usageError(cli("predict", "--model", gpt2, "--input-ids", "5,x,7", "--output", o), "'x' is not an integer");
        usageError(cli("predict", "--model", gpt2, "--input-ids", "5,1.5", "--output", o), "--input-ids");
        usageError(cli("predict", "--model", gpt2, "--input-ids", "5,61", "--output", o), "token id 61");
        usageError(cli("predict", "--model", gpt2, "--input-ids", "5,-1", "--output", o), "token id -1");
        usageError(cli("predict", "--model", gpt2, "--input-ids", "", "--output", o), "no token ids");
        usageError(cli("predict", "--model", gpt2, "--input-ids", tooLong, "--output", o), "context of 24");
        usageError(cli("predict", "--model", gpt2, "--input-ids", "5"), "--output");
        usageError(cli("predict", "--model", gpt2, "--input", vitInputs, "--output", o), "text model");
        usageError(cli("predict", "--model", gpt2, "--input", vitInputs, "--input-ids", "5", "--output", o), "exactly one");
        usageError(cli("predict", "--model", gpt2, "--output", o), "exactly one");
        usageError(cli("predict", "--model", Fixtures.vitTiny("hf").toString(), "--input-ids", "5", "--output", o),
                "model_type 'vit'");
        usageError(cli("predict", "--model", "vit-tiny-test", "--input-ids", "5", "--output", o), "not a folder");
        usageError(cli("predict", "--model", broken.toString(), "--input-ids", "5", "--output", o), "model.safetensors");
        usageError(cli("predict", "--model", noWeights.toString(), "--input-ids", "5", "--output", o), "model.safetensors");
        usageError(cli("predict", "--model", badConfig.toString(), "--input-ids", "5", "--output", o), "config.json");
        usageError(cli("predict", "--model", emptyDir.toString(), "--input-ids", "5", "--output", o), "config.json");
        usageError(cli("predict", "--model", gpt2, "--adapter", tmp.resolve("nope").toString(), "--input-ids", "5",
                "--output", o), "nope");
        assertFalse(Files.exists(out));
        try (var files = Files.list(tmp)) {
            assertEquals(List.of(), files.filter(f -> f.getFileName().toString().startsWith(".")).toList(), "no temporary files left");
        }
    }

    @Test
    void badGenerateInputGivesExitTwo(@TempDir Path tmp) throws IOException {
        String gpt2 = GPT2.toString();
        Path vocabTooBig = copyOf(GPT2, tmp.resolve("vocab-too-big"));
        wordTokenizer(vocabTooBig, 62, 0);
        Path addedTooBig = copyOf(GPT2, tmp.resolve("added-too-big"));
        wordTokenizer(addedTooBig, 61, 61);
        Path notJson = copyOf(GPT2, tmp.resolve("not-json"));
        Files.writeString(notJson.resolve("tokenizer.json"), "{\"model\": {\"vocab\": ");
        Path notTokenizer = copyOf(GPT2, tmp.resolve("not-a-tokenizer"));
        Files.writeString(notTokenizer.resolve("tokenizer.json"), "{\"model\": {\"type\": \"Nonsense\", \"vocab\": {\"a\": 0}}}");
        Path noVocab = copyOf(GPT2, tmp.resolve("no-vocab"));
        Files.writeString(noVocab.resolve("tokenizer.json"), "[1, 2]");
        Path broken = copyOf(GPT2, tmp.resolve("broken"));
        Files.writeString(broken.resolve("model.safetensors"), "garbage");

        usageError(cli("generate", "--model", TEXT.resolve("bert-tiny").toString(), "--prompt-ids", "5", "--max-new-tokens", "2"),
                "encoder");
        usageError(cli("generate", "--model", TEXT.resolve("roberta-tiny").toString(), "--prompt-ids", "5", "--max-new-tokens", "2"),
                "encoder");
        usageError(cli("generate", "--model", gpt2, "--prompt-ids", "5", "--max-new-tokens", "2", "--beams", "0"), "--beams");
        usageError(cli("generate", "--model", gpt2, "--prompt-ids", "5", "--max-new-tokens", "0"), "--max-new-tokens");
        usageError(cli("generate", "--model", gpt2, "--prompt-ids", "5", "--max-new-tokens", "2", "--beams", "2", "--no-cache"),
                "--no-cache");
        usageError(cli("generate", "--model", gpt2, "--prompt-ids", "5,x", "--max-new-tokens", "2"), "'x' is not an integer");
        usageError(cli("generate", "--model", gpt2, "--prompt-ids", "5,99", "--max-new-tokens", "2"), "token id 99");
        usageError(cli("generate", "--model", gpt2, "--prompt-ids", "5,-3", "--max-new-tokens", "2"), "token id -3");
        usageError(cli("generate", "--model", gpt2, "--prompt-ids", "", "--max-new-tokens", "2"), "no token ids");
        usageError(cli("generate", "--model", gpt2, "--prompt-ids", "0,8,15,36,58", "--max-new-tokens", "20"), "context of 24");
        usageError(cli("generate", "--model", gpt2, "--prompt", "w1 w2", "--max-new-tokens", "2"), "tokenizer.json");
        usageError(cli("generate", "--model", gpt2, "--max-new-tokens", "2"), "--prompt");
        usageError(cli("generate", "--model", gpt2, "--prompt", "w1", "--prompt-ids", "1", "--max-new-tokens", "2"), "--prompt");
        usageError(cli("generate", "--model", gpt2, "--prompt-ids", "5", "--max-new-tokens", "2", "--image",
                tmp.resolve("cat.png").toString()), "--image needs --adapter");
        usageError(cli("generate", "--model", vocabTooBig.toString(), "--prompt-ids", "5", "--max-new-tokens", "2"),
                "ids up to 61");
        usageError(cli("generate", "--model", addedTooBig.toString(), "--prompt-ids", "5", "--max-new-tokens", "2"),
                "ids up to 61");
        usageError(cli("generate", "--model", notJson.toString(), "--prompt-ids", "5", "--max-new-tokens", "2"), "tokenizer.json");
        usageError(cli("generate", "--model", notTokenizer.toString(), "--prompt-ids", "5", "--max-new-tokens", "2"),
                "tokenizer.json");
        usageError(cli("generate", "--model", noVocab.toString(), "--prompt-ids", "5", "--max-new-tokens", "2"), "tokenizer.json");
        usageError(cli("generate", "--model", broken.toString(), "--prompt-ids", "5", "--max-new-tokens", "2"), "model.safetensors");
        usageError(cli("generate", "--model", tmp.resolve("missing").toString(), "--prompt-ids", "5", "--max-new-tokens", "2"),
                "missing");
        usageError(cli("generate", "--model", gpt2, "--prompt-ids", "5", "--max-new-tokens", "2", "--adapter",
                tmp.resolve("no-adapter").toString()), "no-adapter");
    }
}
