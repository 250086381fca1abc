package org.peft4j.train;

import ai.djl.engine.Engine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.ManagedTest;
import org.peft4j.data.text.TextCorpus;
import org.peft4j.data.text.WordVocabulary;
import org.peft4j.data.vl.CaptionSample;
import org.peft4j.data.vl.SceneCaptions;
import org.peft4j.data.vl.SortOfClevr;
import org.peft4j.data.vl.VqaSample;
import org.peft4j.models.text.Gpt2Model;
import org.peft4j.models.text.TextCheckpoint;
import org.peft4j.models.text.TextConfig;
import org.peft4j.models.text.TextTokenizer;
import org.peft4j.models.vit.VitCheckpoint;
import org.peft4j.models.vl.VisionLanguageModel;
import org.peft4j.tuners.routing.Routing;
import org.peft4j.tuners.routing.RoutingConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A few steps of VQA and captioning on tiny models: the loss falls, the metrics and files are there. */
public class VlFineTuningTest extends ManagedTest {

    @TempDir
    Path tmp;

    /** A tiny GPT-2 whose word tokenizer covers the built-in tasks. */
    public static Path tinyTextModel(Path dir) throws Exception {
        List<List<String>> streams = new ArrayList<>();
        for (VqaSample s : SortOfClevr.generate(300, 1, 24)) {
            streams.add(TextCorpus.words(s.question()));
            s.answers().forEach(a -> streams.add(TextCorpus.words(a)));
        }
        for (CaptionSample c : SceneCaptions.generate(100, 1, 24)) {
            c.captions().forEach(t -> streams.add(TextCorpus.words(t)));
        }
        WordVocabulary vocab = WordVocabulary.build(streams, 1, 1000);
        TextConfig config = TextConfig.gpt2(vocab.size(), 32, 1, 2, 32).withSpecialTokens(0, 2, 3);
        Engine.getInstance().setRandomSeed(5);
        Gpt2Model gpt2 = new Gpt2Model(config);
        try (var m = ai.djl.ndarray.NDManager.newBaseManager()) {
            gpt2.initialize(m);
            TextCheckpoint.save(gpt2, config, dir, Map.of());
        }
        vocab.writeTokenizerJson(dir.resolve(TextTokenizer.FILE));
        return dir;
    }

    private Map<String, Object> run(String task, RoutingConfig.Method method, Routing routing, List<?> train, List<?> test)
            throws Exception {
        Path textDir = tinyTextModel(tmp.resolve("text"));
        var vit = VitCheckpoint.load(Path.of("src/test/resources/fixtures/vit-tiny/hf"), manager);
        var text = TextCheckpoint.load(textDir, manager);
        try (TextTokenizer tok = TextTokenizer.load(textDir, ((Gpt2Model) text).config().vocabSize())) {
            int answers = task.equals("vqa") ? VlFineTuning.answerVocabulary(train).size() : 0;
            VisionLanguageModel vlm = new VisionLanguageModel(vit, text, answers);
            vlm.initializeNew(manager);
            var recipe = new VlFineTuning.Recipe(task, method, routing, 4, 4, 4, 3, 16, 5e-3, 0.01, 0.1, 1.0, 7, 2);
            Path out = tmp.resolve(task + "-" + routing.cliName);
            VlFineTuning.Outcome o = VlFineTuning.run(vlm, tok, train, test, recipe, out, manager, false);
            assertTrue(Files.isRegularFile(out.resolve("adapter_config.json")) && Files.isRegularFile(out.resolve("examples.json")));
            List<String> lines = Files.readAllLines(out.resolve("metrics.jsonl"));
            List<Double> epochLoss = lines.stream().filter(l -> l.contains("\"epoch\"") && l.contains("train_loss"))
                    .map(l -> readTree(l).get("train_loss").asDouble()).toList();
            assertEquals(3, epochLoss.size());
            assertTrue(epochLoss.get(2) < epochLoss.get(0), "loss falls: " + epochLoss);
            Map<String, Object> json = o.toJson();
            assertTrue((long) json.get("trainable_params") > 0);
            return json;
        }
    }

    @Test
    void vqaWithMatrixRouting() throws Exception {
        List<VqaSample> all = SortOfClevr.generate(120, 3, 24);
        Map<String, Object> r = run("vqa", RoutingConfig.Method.LORA, Routing.VL, all.subList(0, 96), all.subList(96, 120));
        double acc = (double) r.get("vqa_accuracy");
        assertTrue(acc >= 0 && acc <= 1, "accuracy " + acc);
        assertTrue(((Map<?, ?>) r.get("by_kind")).containsKey("relational"));
    }

    @Test
    void captionsWithAnAddRoutedAdapter() throws Exception {
        List<CaptionSample> all = SceneCaptions.generate(30, 4, 24);
        Map<String, Object> r = run("caption", RoutingConfig.Method.ADAPTER, Routing.ADD, all.subList(0, 24), all.subList(24, 30));
        assertTrue(r.containsKey("greedy") && r.containsKey("beam"), r.keySet().toString());
        double cider = (double) r.get("cider");
        assertTrue(cider >= 0 && Double.isFinite(cider));
    }

    private static com.fasterxml.jackson.databind.JsonNode readTree(String line) {
        try {
            return org.peft4j.io.Json.MAPPER.readTree(line);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
