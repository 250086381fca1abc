package org.peft4j.models.text;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.peft4j.ManagedTest;
import org.peft4j.io.SafetensorsReader;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.Module;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.peft4j.Fixtures.assertClose;

/**
 * GPT-2, BERT and RoBERTa equal independent plain-torch implementations on the same random weights
 * (tools/make_text_fixtures.py) within 2e-5, in both GPT-2 key layouts; the key/value cache gives
 * the same logits at every greedy step as recomputing the whole sequence.
 */
class TextGoldenTest extends ManagedTest {

    static final Path DIR = Path.of("src/test/resources/fixtures/text");
    private static final float TOL = 2e-5f;

    private float[] golden(String model, String name) throws IOException {
        try (SafetensorsReader r = SafetensorsReader.open(DIR.resolve(model).resolve("golden.safetensors"))) {
            return r.readFloats(name);
        }
    }

    private NDArray ids(String model, String name) throws IOException {
        try (SafetensorsReader r = SafetensorsReader.open(DIR.resolve(model).resolve("golden.safetensors"))) {
            return manager.create(r.readLongs(name), new Shape(r.info(name).shape()));
        }
    }

    @Test
    void gpt2LogitsInBothKeyLayouts() throws IOException {
        for (String dir : List.of("gpt2-tiny", "gpt2-tiny-legacy")) {
            Module m = TextCheckpoint.load(DIR.resolve(dir), manager);
            Gpt2Model gpt2 = (Gpt2Model) m;
            NDArray logits = gpt2.forward(ids("gpt2-tiny", "input_ids"), ForwardContext.INFERENCE);
            assertEquals(new Shape(2, 9, 61), logits.getShape());
            assertClose(golden("gpt2-tiny", "logits"), logits.toFloatArray(), TOL);
        }
    }

    @Test
    void gpt2GreedyWithAndWithoutCache() throws IOException {
        Gpt2Model gpt2 = (Gpt2Model) TextCheckpoint.load(DIR.resolve("gpt2-tiny"), manager);
        long[] prompt = ids("gpt2-tiny", "prompt_ids").toLongArray();
        long[] expected = ids("gpt2-tiny", "greedy_ids").toLongArray();
        long[] continuation = java.util.Arrays.copyOfRange(expected, prompt.length, expected.length);
        for (boolean cache : new boolean[] {true, false}) {
            List<long[]> out = Generator.greedy(gpt2, null, new long[][] {prompt}, 10, -1, cache, b -> ForwardContext.INFERENCE, manager);
            assertArrayEquals(continuation, out.get(0), "cache " + cache);
        }
        // step by step through the cache: the logits of each step
        float[] steps = golden("gpt2-tiny", "step_logits");
        try (KvCache cache = new KvCache(2, manager)) {
            NDArray x = gpt2.embedTokens(manager.create(prompt, new Shape(1, prompt.length)));
            for (int t = 0; t < 10; t++) {
                NDArray h = gpt2.encode(x, null, cache, ForwardContext.INFERENCE);
                long n = h.getShape().get(1);
                float[] logits = gpt2.logits(h.get(":, " + (n - 1) + ", :")).toFloatArray();
                assertClose(java.util.Arrays.copyOfRange(steps, t * 61, (t + 1) * 61), logits, TOL);
                x = gpt2.embedTokens(manager.create(new long[] {continuation[t]}, new Shape(1, 1)));
            }
            assertEquals(14, cache.length()); // the last token is embedded, not yet run
        }
    }

    @Test
    void bertAndRobertaWithPadding() throws IOException {
        for (String dir : List.of("bert-tiny", "roberta-tiny")) {
            BertModel bert = (BertModel) TextCheckpoint.load(DIR.resolve(dir), manager);
            NDArray mask = ids(dir, "attention_mask");
            NDArray hidden = bert.encode(bert.embedTokens(ids(dir, "input_ids")), mask, null, ForwardContext.INFERENCE);
            assertClose(golden(dir, "last_hidden_state"), hidden.toFloatArray(), TOL);
            assertClose(golden(dir, "pooler_output"), bert.pool(hidden, ForwardContext.INFERENCE).toFloatArray(), TOL);
        }
    }

    @Test
    void savedModelsLoadBackIdentically() throws IOException {
        for (String dir : List.of("gpt2-tiny", "roberta-tiny")) {
            Module m = TextCheckpoint.load(DIR.resolve(dir), manager);
            TextModel tm = (TextModel) m;
            Path out = java.nio.file.Files.createTempDirectory("text-save");
            TextCheckpoint.save(m, tm.config(), out, java.util.Map.of());
            Module back = TextCheckpoint.load(out, manager);
            NDArray ids = manager.create(new long[] {3, 5, 7, 9}, new Shape(1, 4));
            assertClose(tm.hiddenStates(ids, ForwardContext.INFERENCE).toFloatArray(),
                    ((TextModel) back).hiddenStates(ids, ForwardContext.INFERENCE).toFloatArray(), 0f);
        }
    }
}
