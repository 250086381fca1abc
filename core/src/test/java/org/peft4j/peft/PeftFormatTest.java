package org.peft4j.peft;

import org.peft4j.ManagedTest;
import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.Fixtures;
import org.peft4j.tuners.TargetModules;
import org.peft4j.io.Json;
import org.peft4j.io.SafetensorsReader;
import org.peft4j.models.vit.VitCheckpoint;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.tuners.lora.LoraConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.peft4j.Fixtures.TOLERANCE;
import static org.peft4j.Fixtures.assertClose;

/** Adapters written by Hugging Face PEFT load here, and ours are written in exactly that format. */
class PeftFormatTest extends ManagedTest {



    private PeftModel load(String model, String adapter) throws IOException {
        VitForImageClassification vit = VitCheckpoint.load(Fixtures.vitTiny(model), manager);
        PeftModel peft = new PeftModel(vit, vit.headPath(), manager);
        peft.load(Fixtures.vitTiny(adapter), PeftModel.DEFAULT_ADAPTER);
        return peft;
    }

    private float[] logits(PeftModel peft) throws IOException {
        NDArray x = Fixtures.input("pixel_values", manager);
        return peft.forward(x, false).toFloatArray();
    }

    @Test
    void peftWrittenAdapterGivesTheFoldedReferenceLogits() throws IOException {
        PeftModel peft = load("hf", "peft-lora-hf");
        assertClose(Fixtures.expected("logits_lora"), logits(peft), TOLERANCE);
        // rank_pattern {"value": 2}: value layers have rank 2, query layers rank 4.
        assertEquals(new ai.djl.ndarray.types.Shape(2, 32), Fixtures.loraLayers(peft, "default")
                .get("vit.encoder.layer.0.attention.attention.value").parameters().get("lora_A.weight").getShape());
        peft.disableAdapters();
        assertClose(Fixtures.expected("logits"), logits(peft), TOLERANCE);
    }

    @Test
    void timmAdapterOnFusedQkvWithRsLora() throws IOException {
        PeftModel peft = load("timm", "peft-lora-timm");
        assertTrue(((LoraConfig) peft.config("default")).useRslora());
        assertClose(Fixtures.expected("logits_lora_timm"), logits(peft), TOLERANCE);
    }

    @Test
    void savedAdapterHasPeftKeysShapesAndConfig(@TempDir Path tmp) throws IOException {
        PeftModel peft = load("hf", "peft-lora-hf");
        Path out = tmp.resolve("adapter");
        peft.save(out, "default");
        try (SafetensorsReader ours = SafetensorsReader.open(out.resolve(PeftModel.WEIGHTS_FILE));
             SafetensorsReader theirs = SafetensorsReader.open(Fixtures.vitTiny("peft-lora-hf/adapter_model.safetensors"))) {
            assertEquals(new TreeMap<>(theirs.metadata()), new TreeMap<>(ours.metadata()));
            assertEquals(List.copyOf(new java.util.TreeSet<>(theirs.names())), List.copyOf(new java.util.TreeSet<>(ours.names())));
            for (String k : theirs.names()) {
                assertEquals(java.util.Arrays.toString(theirs.info(k).shape()), java.util.Arrays.toString(ours.info(k).shape()), k);
                assertClose(theirs.readFloats(k), ours.readFloats(k), 0f);
            }
        }
        JsonNode theirs = Json.MAPPER.readTree(Fixtures.vitTiny("peft-lora-hf/adapter_config.json").toFile());
        JsonNode ours = Json.MAPPER.readTree(out.resolve(PeftModel.CONFIG_FILE).toFile());
        for (String field : List.of("peft_type", "r", "lora_alpha", "target_modules", "rank_pattern",
                "modules_to_save", "use_rslora", "bias", "init_lora_weights", "fan_in_fan_out", "use_dora")) {
            assertEquals(theirs.get(field).toString().replace(".0", ""), ours.get(field).toString().replace(".0", ""), field);
        }
        // Python json.dumps(indent=2, sort_keys=True) layout, as PEFT writes it.
        String text = Files.readString(out.resolve(PeftModel.CONFIG_FILE));
        assertTrue(text.startsWith("{\n  \"alpha_pattern\": {},\n"), text);

        VitForImageClassification vit = VitCheckpoint.load(Fixtures.vitTiny("hf"), manager);
        PeftModel again = new PeftModel(vit, vit.headPath(), manager);
        again.load(out, "reloaded");
        assertClose(Fixtures.expected("logits_lora"), logits(again), TOLERANCE);
    }

    @Test
    void mergeUnmergeAndMergeAndUnload(@TempDir Path tmp) throws IOException {
        PeftModel peft = load("hf", "peft-lora-hf");
        peft.merge(true, "default");
        assertClose(Fixtures.expected("logits_lora"), logits(peft), TOLERANCE);
        peft.unmerge();
        assertClose(Fixtures.expected("logits_lora"), logits(peft), TOLERANCE);
        peft.disableAdapters();
        assertClose(Fixtures.expected("logits"), logits(peft), TOLERANCE);
        peft.setActiveAdapters("default");

        VitForImageClassification merged = (VitForImageClassification) peft.mergeAndUnload(true);
        VitCheckpoint.save(merged, tmp.resolve("merged"));
        VitForImageClassification reloaded = VitCheckpoint.load(tmp.resolve("merged"), manager);
        assertClose(Fixtures.expected("logits_lora"),
                reloaded.forward(Fixtures.input("pixel_values", manager), false).toFloatArray(), TOLERANCE);
    }

    @Test
    void safeMergeRefusesNonFiniteWeights() throws IOException {
        PeftModel peft = load("hf", "peft-lora-hf");
        NDArray b = Fixtures.loraLayers(peft, "default").get("vit.encoder.layer.1.attention.attention.query")
                .parameters().get("lora_B.weight").getArray();
        b.set(new float[(int) b.size()]);
        b.set(ai.djl.ndarray.index.NDIndex.sliceAxis(0, 0, 1), Float.NaN);
        java.util.Map<String, float[]> before = new java.util.LinkedHashMap<>();
        peft.base().namedParameters().forEach((k, p) -> before.put(k, p.getArray().toFloatArray()));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> peft.merge(true, "default"));
        assertTrue(e.getMessage().contains("NaN"), e.getMessage());
        // Layer 0 merged before layer 1 failed: it is unmerged again, so no weight changed.
        before.forEach((k, v) -> assertClose(v, peft.base().namedParameters().get(k).getArray().toFloatArray(), 1e-6f));
        Fixtures.loraLayers(peft, "default").keySet().forEach(path -> assertTrue(peft.base().modulesOfType(
                org.peft4j.nn.LinearLayer.class).get(path).hooks().merged().isEmpty(), path + " is not marked merged"));
    }

    @Test
    void adapterForAnotherModelIsRefusedWithTheFileName() throws IOException {
        VitForImageClassification vit = VitCheckpoint.load(Fixtures.vitTiny("hf"), manager);
        PeftModel peft = new PeftModel(vit, vit.headPath(), manager);
        IOException e = assertThrows(IOException.class,
                () -> peft.load(Fixtures.vitTiny("peft-lora-timm"), "x"));
        assertTrue(e.getMessage().contains("adapter_config.json"), e.getMessage());
        assertTrue(peft.adapterNames().isEmpty());
    }

    @Test
    void trainableSummaryMatchesPeftForVitBase() {
        // Reference from Hugging Face PEFT's image-classification example: ViT-B/16, 101 labels,
        // r=16 on query/value, classifier saved: 667,493 of 86,466,149.
        var config = org.peft4j.models.vit.VitConfig.fromJson(Json.MAPPER.createObjectNode()
                .put("num_labels", 101).put("layer_norm_eps", 1e-12));
        VitForImageClassification vit = new VitForImageClassification(config);
        vit.initialize(manager);
        PeftModel peft = new PeftModel(vit, vit.headPath(), manager);
        peft.addAdapter("default", LoraConfig.of(16, 16, TargetModules.of("query", "value"))
                .withModulesToSave(List.of("classifier")));
        assertEquals("trainable params: 667,493 || all params: 86,466,149 || trainable%: 0.7720",
                peft.counts().summary());
    }

    /** DoRA and IA³ adapters carry PEFT's key names, shapes and config fields. */
    @Test
    void doraAndIa3UsePeftsKeysAndConfig(@TempDir Path tmp) throws IOException {
        VitForImageClassification vit = VitCheckpoint.load(Fixtures.vitTiny("hf"), manager);
        PeftModel peft = new PeftModel(vit, vit.headPath(), manager);
        peft.addAdapter("dora", Methods.config("dora", MethodOptions.DEFAULTS, vit));
        peft.addAdapter("ia3", Methods.config("ia3", MethodOptions.DEFAULTS, vit));
        String layer = PeftModel.PREFIX + "vit.encoder.layer.0.";
        peft.save(tmp.resolve("dora"), "dora");
        try (SafetensorsReader r = SafetensorsReader.open(tmp.resolve("dora").resolve(PeftModel.WEIGHTS_FILE))) {
            assertEquals("[32]", java.util.Arrays.toString(r.info(layer + "attention.attention.value.lora_magnitude_vector").shape()));
            assertEquals("[8, 32]", java.util.Arrays.toString(r.info(layer + "attention.attention.value.lora_A.weight").shape()));
        }
        JsonNode dora = Json.MAPPER.readTree(tmp.resolve("dora").resolve(PeftModel.CONFIG_FILE).toFile());
        assertTrue(dora.get("use_dora").asBoolean() && dora.get("peft_type").asText().equals("LORA"));

        peft.save(tmp.resolve("ia3"), "ia3");
        try (SafetensorsReader r = SafetensorsReader.open(tmp.resolve("ia3").resolve(PeftModel.WEIGHTS_FILE))) {
            assertEquals("[32, 1]", java.util.Arrays.toString(r.info(layer + "attention.attention.key.ia3_l").shape()));
            assertEquals("[32, 1]", java.util.Arrays.toString(r.info(layer + "attention.attention.value.ia3_l").shape()));
            assertEquals("[1, 64]", java.util.Arrays.toString(r.info(layer + "output.dense.ia3_l").shape()),
                    "the MLP's second linear is feed-forward: input side");
            assertTrue(!r.contains(layer + "attention.output.dense.ia3_l"), "the attention output is not a target");
        }
        JsonNode ia3 = Json.MAPPER.readTree(tmp.resolve("ia3").resolve(PeftModel.CONFIG_FILE).toFile());
        assertEquals("IA3", ia3.get("peft_type").asText());
        assertTrue(ia3.get("feedforward_modules").isTextual() && ia3.get("init_ia3_weights").asBoolean());
    }
}
