package org.peft4j.peft;

import org.peft4j.ManagedTest;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.Fixtures;
import org.peft4j.tuners.TargetModules;
import org.peft4j.io.Json;
import org.peft4j.io.SafetensorsReader;
import org.peft4j.models.vit.VitCheckpoint;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.tuners.lora.LoraLayer;
import org.peft4j.nn.LinearLayer;
import org.peft4j.tuners.lora.LoraConfig;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.peft4j.Fixtures.TOLERANCE;
import static org.peft4j.Fixtures.assertClose;

/** PeftModel on the tiny fixture ViT: several adapters, switching, deleting, freezing, biases, merging, counts. */
class PeftModelTest extends ManagedTest {

    private static final String LAYER = "vit.encoder.layer.";
    private static final String QUERY_0 = LAYER + "0.attention.attention.query";
    /** The fixture model's size, by hand (README): 1568 patch + 32 cls + 544 pos + 2 × 8544 + 64 norm + 165 head. */
    private static final long TINY_PARAMS = 19_461;


    @BeforeEach
    void open() {
        Engine.getInstance().setRandomSeed(5);
    }

    private VitForImageClassification vit(String naming) throws IOException {
        return VitCheckpoint.load(Fixtures.vitTiny(naming), manager);
    }

    private PeftModel peft(String naming) throws IOException {
        VitForImageClassification vit = vit(naming);
        return new PeftModel(vit, vit.headPath(), manager);
    }

    /** A and B both random (init_lora_weights=false), so every adapter changes the output. */
    private static LoraConfig random(int r, double alpha, List<String> modulesToSave, String... targets) {
        return new LoraConfig(r, alpha, 0.0, TargetModules.of(targets), false, null, null,
                LoraConfig.Bias.NONE, modulesToSave, LoraConfig.Init.RANDOM, null, null);
    }

    private static LoraConfig withBias(LoraConfig c, LoraConfig.Bias bias) {
        return new LoraConfig(c.r(), c.loraAlpha(), c.loraDropout(), c.targetModules(), c.useRslora(), c.rankPattern(),
                c.alphaPattern(), bias, c.modulesToSave(), c.init(), c.enableLora(), c.baseModelNameOrPath());
    }

    private float[] logits(PeftModel peft) throws IOException {
        return peft.forward(Fixtures.input("pixel_values", manager), false).toFloatArray();
    }

    private static void assertWithin(float[] expected, float[] actual, float tol, String message) {
        assertTrue(Fixtures.maxAbsDiff(expected, actual) <= tol, message + ": max abs diff " + Fixtures.maxAbsDiff(expected, actual));
    }

    private static Map<String, float[]> snapshot(PeftModel peft) {
        Map<String, float[]> out = new LinkedHashMap<>();
        peft.base().namedParameters().forEach((k, p) -> out.put(k, p.getArray().toFloatArray()));
        return out;
    }

    private static Set<String> loraKeys(List<String> modules, int layers) {
        Set<String> keys = new TreeSet<>();
        for (int i = 0; i < layers; i++) {
            for (String m : modules) {
                keys.add(LAYER + i + "." + m + ".lora_A.weight");
                keys.add(LAYER + i + "." + m + ".lora_B.weight");
            }
        }
        return keys;
    }

    @Test
    void twoActiveAdaptersAddUp() throws IOException {
        PeftModel peft = peft("hf");
        peft.addAdapter("a", random(4, 8, null, "query", "value"));
        peft.addAdapter("b", random(2, 4, null, "query", "intermediate.dense"));
        peft.setActiveAdapters("a", "b");
        assertEquals(List.of("a", "b"), peft.activeAdapters());

        // Layer level: a layer both adapters target outputs base + Δa + Δb.
        LinearLayer query = peft.base().modulesOfType(LinearLayer.class).get(QUERY_0);
        float[] xs = new float[2 * 5 * 32];
        Random random = new Random(3);
        for (int i = 0; i < xs.length; i++) {
            xs[i] = (float) random.nextGaussian();
        }
        NDArray x = manager.create(xs, new Shape(2, 5, 32));
        NDArray expected = Linear.linear(x, query.weight().getArray(), query.bias().getArray()).singletonOrThrow()
                .add(Fixtures.loraDelta(Fixtures.loraLayers(peft, "a").get(QUERY_0), x))
                .add(Fixtures.loraDelta(Fixtures.loraLayers(peft, "b").get(QUERY_0), x));
        assertClose(expected.toFloatArray(), query.forward(x, false).toFloatArray(), 1e-5f);

        // Model level: both active equals both folded into the weights.
        float[] both = logits(peft);
        peft.setActiveAdapters("a");
        float[] onlyA = logits(peft);
        peft.setActiveAdapters("b");
        float[] onlyB = logits(peft);
        assertTrue(Fixtures.maxAbsDiff(both, onlyA) > 1e-2 && Fixtures.maxAbsDiff(both, onlyB) > 1e-2, "each adapter matters");
        peft.setActiveAdapters("a", "b");
        peft.merge(true, "a", "b");
        assertClose(both, logits(peft), TOLERANCE);
    }

    @Test
    void setActiveAdaptersSwitchesTheModulesToSaveCopies() throws IOException {
        PeftModel peft = peft("hf");
        Parameter originalHead = peft.base().namedParameters().get("classifier.weight");
        float[] originalValues = originalHead.getArray().toFloatArray();
        // B = 0 (default init): the LoRA layers change nothing, so only the heads differ.
        LoraConfig config = LoraConfig.of(2, 4, TargetModules.of("query")).withModulesToSave(List.of("classifier"));
        peft.addAdapter("a", config);
        peft.addAdapter("b", config);
        assertEquals(List.of("b"), peft.activeAdapters(), "a new adapter becomes the active one");

        Parameter headB = peft.trainableParameters().get("classifier.weight");
        Parameter biasB = peft.trainableParameters().get("classifier.bias");
        assertNotSame(originalHead, headB);
        headB.getArray().set(new float[5 * 32]);
        biasB.getArray().set(new float[] {0, 1, 2, 3, 4});
        float[] rowsOfBias = new float[20];
        for (int i = 0; i < 20; i++) {
            rowsOfBias[i] = i % 5;
        }
        assertClose(rowsOfBias, logits(peft), 0f);

        peft.setActiveAdapters("a");
        Parameter headA = peft.trainableParameters().get("classifier.weight");
        assertNotSame(headA, headB);
        assertNotSame(originalHead, headA);
        assertClose(Fixtures.expected("logits"), logits(peft), TOLERANCE);

        peft.setActiveAdapters("b");
        assertClose(rowsOfBias, logits(peft), 0f);
        peft.setActiveAdapters("a", "b");
        assertWithin(Fixtures.expected("logits"), logits(peft), TOLERANCE, "the first listed adapter's copy wins");
        peft.setActiveAdapters("b", "a");
        assertClose(rowsOfBias, logits(peft), 0f);
        peft.disableAdapters();
        assertClose(Fixtures.expected("logits"), logits(peft), TOLERANCE);
        assertClose(originalValues, originalHead.getArray().toFloatArray(), 0f);

        assertThrows(IllegalArgumentException.class, () -> peft.setActiveAdapters("a", "nope"));
        assertEquals(List.of(), peft.activeAdapters(), "a refused switch changes nothing");
    }

    @Test
    void disableAdaptersGivesTheBaseLogits() throws IOException {
        PeftModel peft = peft("hf");
        peft.addAdapter("a", random(2, 4, List.of("classifier"), "query", "value"));
        float[] adapted = logits(peft);
        assertTrue(Fixtures.maxAbsDiff(Fixtures.expected("logits"), adapted) > 1e-2, "the adapter changes the logits");
        peft.disableAdapters();
        assertEquals(List.of(), peft.activeAdapters());
        assertClose(Fixtures.expected("logits"), logits(peft), TOLERANCE);
        peft.setActiveAdapters("a");
        assertClose(adapted, logits(peft), 0f);
    }

    @Test
    void disableAdaptersGivesTheBaseLogitsEvenWhenMerged() throws IOException {
        // PEFT's LoRA layer unmerges when adapters are disabled; PeftModel documents "runs the plain base model".
        PeftModel peft = peft("hf");
        peft.addAdapter("a", random(2, 4, null, "query", "value"));
        peft.merge(true, "a");
        peft.disableAdapters();
        assertWithin(Fixtures.expected("logits"), logits(peft), TOLERANCE,
                "disabled adapters must not act through merged weights");
    }

    @Test
    void deleteAdapterRemovesItsLayersAndParameters() throws IOException {
        PeftModel peft = peft("hf");
        peft.addAdapter("a", random(2, 4, List.of("classifier"), "query", "value"));
        peft.addAdapter("b", random(2, 4, null, "key"));
        float[] onlyB = logits(peft);
        long allWithBoth = peft.counts().all();
        peft.setActiveAdapters("a", "b");
        int baseParams = peft.base().namedParameters().size();

        peft.deleteAdapter("a");
        assertEquals(Set.of("b"), peft.adapterNames());
        assertEquals(List.of("b"), peft.activeAdapters());
        for (Map.Entry<String, LinearLayer> e : peft.base().modulesOfType(LinearLayer.class).entrySet()) {
            assertFalse(e.getValue().hooks().hooks().containsKey("a"), e.getKey());
        }
        assertThrows(IllegalArgumentException.class, () -> Fixtures.loraLayers(peft, "a"));
        assertThrows(IllegalArgumentException.class, () -> peft.config("a"));
        assertEquals(loraKeys(List.of("attention.attention.key"), 2), new TreeSet<>(peft.trainableParameters().keySet()));
        assertEquals(allWithBoth - 4 * (2 * 32 + 32 * 2), peft.counts().all(), "a's 4 layers of A [2,32] + B [32,2]");
        assertEquals(baseParams, peft.base().namedParameters().size());
        // Its head copy is gone too: only b acts, with the original classifier.
        assertClose(onlyB, logits(peft), 1e-6f);

        assertThrows(IllegalArgumentException.class, () -> peft.deleteAdapter("a"));
        peft.addAdapter("a", random(2, 4, null, "query"));
        assertEquals(Set.of("a", "b"), peft.adapterNames(), "the name can be used again");
    }

    @Test
    void deletingAMergedAdapterIsRefusedAndChangesNothing() throws IOException {
        PeftModel peft = peft("hf");
        peft.addAdapter("a", random(2, 4, null, "query", "value"));
        float[] adapted = logits(peft);
        peft.merge(true, "a");
        assertThrows(IllegalStateException.class, () -> peft.deleteAdapter("a"));
        assertEquals(Set.of("a"), peft.adapterNames());
        assertClose(adapted, logits(peft), TOLERANCE);
        peft.unmerge();
        peft.deleteAdapter("a");
        assertClose(Fixtures.expected("logits"), logits(peft), TOLERANCE);
    }

    @Test
    void onlyTheActiveAdapterTrainsAndTheBaseIsFrozen() throws IOException {
        PeftModel peft = peft("hf");
        peft.addAdapter("a", random(2, 4, List.of("classifier"), "query", "value"));
        peft.addAdapter("b", random(2, 4, List.of("classifier"), "query", "value"));
        Set<String> expected = loraKeys(List.of("attention.attention.query", "attention.attention.value"), 2);
        expected.add("classifier.weight");
        expected.add("classifier.bias");

        for (String name : List.of("b", "a")) {
            peft.setActiveAdapters(name);
            String other = name.equals("a") ? "b" : "a";
            Map<String, Parameter> trainable = peft.trainableParameters();
            assertEquals(expected, new TreeSet<>(trainable.keySet()));
            for (Map.Entry<String, LoraLayer> e : Fixtures.loraLayers(peft, name).entrySet()) {
                for (Map.Entry<String, Parameter> p : e.getValue().parameters().entrySet()) {
                    assertSame(p.getValue(), trainable.get(e.getKey() + "." + p.getKey()));
                }
            }
            for (Parameter p : trainable.values()) {
                assertTrue(p.requiresGradient() && p.getArray().hasGradient(), p.getName());
            }
            for (LoraLayer l : Fixtures.loraLayers(peft, other).values()) {
                for (Parameter p : l.parameters().values()) {
                    assertFalse(p.requiresGradient() || p.getArray().hasGradient(), other + " " + p.getName());
                }
            }
            peft.base().namedParameters().forEach((k, p) ->
                    assertFalse(p.requiresGradient() || p.getArray().hasGradient(), "base " + k));
        }
        peft.disableAdapters();
        assertTrue(peft.trainableParameters().isEmpty());
        for (LoraLayer l : Fixtures.loraLayers(peft, "a").values()) {
            l.parameters().values().forEach(p -> assertFalse(p.requiresGradient()));
        }
    }

    @Test
    void biasLoraOnlyTrainsAndSavesTheTargetedLayersBiases(@TempDir Path tmp) throws IOException {
        PeftModel peft = peft("hf");
        peft.addAdapter("a", withBias(random(2, 4, null, "query", "value"), LoraConfig.Bias.LORA_ONLY));
        // A wrapped layer's own bias is saved under PEFT's key for it: <module>.base_layer.bias.
        Map<String, String> biases = new TreeMap<>(); // saved key -> base parameter name
        for (int i = 0; i < 2; i++) {
            for (String m : List.of("query", "value")) {
                String module = LAYER + i + ".attention.attention." + m;
                biases.put(module + ".base_layer.bias", module + ".bias");
            }
        }
        Set<String> expected = loraKeys(List.of("attention.attention.query", "attention.attention.value"), 2);
        expected.addAll(biases.keySet());
        Map<String, Parameter> trainable = peft.trainableParameters();
        assertEquals(expected, new TreeSet<>(trainable.keySet()));
        Map<String, Parameter> base = peft.base().namedParameters();
        for (Map.Entry<String, String> b : biases.entrySet()) {
            assertSame(base.get(b.getValue()), trainable.get(b.getKey()), "the base bias itself trains");
            assertTrue(base.get(b.getValue()).requiresGradient(), b.getKey());
        }
        assertFalse(base.get(LAYER + "0.attention.attention.key.bias").requiresGradient());
        assertFalse(base.get(QUERY_0 + ".weight").requiresGradient());

        // A trained bias travels with the adapter.
        base.get(QUERY_0 + ".bias").getArray().set(filled(32, 0.25f));
        float[] adapted = logits(peft);
        peft.save(tmp.resolve("a"), "a");
        assertEquals(prefixed(expected), savedKeys(tmp.resolve("a")));
        assertEquals("lora_only", Json.MAPPER.readTree(tmp.resolve("a").resolve(PeftModel.CONFIG_FILE).toFile())
                .get("bias").asText());

        PeftModel again = peft("hf");
        again.load(tmp.resolve("a"), "a");
        assertClose(filled(32, 0.25f), again.base().namedParameters().get(QUERY_0 + ".bias").getArray().toFloatArray(), 0f);
        assertClose(adapted, logits(again), 1e-6f);
    }

    @Test
    void biasAllTrainsAndSavesEveryLinearBias(@TempDir Path tmp) throws IOException {
        PeftModel peft = peft("hf");
        peft.addAdapter("a", withBias(random(2, 4, null, "query"), LoraConfig.Bias.ALL));
        Set<String> linearBiases = new TreeSet<>();
        for (String path : peft.base().modulesOfType(LinearLayer.class).keySet()) {
            linearBiases.add(path + (path.endsWith(".query") ? ".base_layer.bias" : ".bias")); // PEFT's key when wrapped
        }
        assertEquals(13, linearBiases.size(), "6 linears per layer, 2 layers, and the classifier");
        Map<String, Parameter> trainable = peft.trainableParameters();
        assertTrue(trainable.keySet().containsAll(linearBiases), trainable.keySet().toString());
        assertTrue(trainable.keySet().containsAll(loraKeys(List.of("attention.attention.query"), 2)));
        for (String b : linearBiases) {
            assertTrue(trainable.get(b).requiresGradient(), b);
        }
        assertFalse(peft.base().namedParameters().get("classifier.weight").requiresGradient());

        peft.save(tmp.resolve("a"), "a");
        assertEquals(prefixed(trainable.keySet()), savedKeys(tmp.resolve("a")));
        PeftModel again = peft("hf");
        again.load(tmp.resolve("a"), "a");
        assertEquals(new TreeSet<>(trainable.keySet()), new TreeSet<>(again.trainableParameters().keySet()));
    }

    @Test
    void biasAllTrainsEveryBiasAsPeft() throws IOException {
        // PEFT: bias="all" sets requires_grad on every parameter whose name contains "bias" (norms and the
        // patch embedding too) and saves them all (get_peft_model_state_dict: "lora_" in k or "bias" in k).
        PeftModel peft = peft("hf");
        peft.addAdapter("a", withBias(random(2, 4, null, "query"), LoraConfig.Bias.ALL));
        Set<String> allBiases = new TreeSet<>();
        for (String k : peft.base().namedParameters().keySet()) {
            if (k.contains("bias")) {
                allBiases.add(k);
            }
        }
        assertEquals(19, allBiases.size(), "patch, 8 per layer × 2, final norm, classifier");
        Set<String> trainableBiases = new TreeSet<>();
        for (String k : peft.trainableParameters().keySet()) {
            if (k.contains("bias")) {
                trainableBiases.add(k.replace(".base_layer.bias", ".bias")); // a wrapped layer's key in PEFT
            }
        }
        assertEquals(allBiases, trainableBiases);
    }

    private static float[] filled(int n, float v) {
        float[] out = new float[n];
        Arrays.fill(out, v);
        return out;
    }

    private static Set<String> prefixed(Set<String> keys) {
        Set<String> out = new TreeSet<>();
        keys.forEach(k -> out.add(PeftModel.PREFIX + k));
        return out;
    }

    private static Set<String> savedKeys(Path dir) throws IOException {
        try (SafetensorsReader r = SafetensorsReader.open(dir.resolve(PeftModel.WEIGHTS_FILE))) {
            return new TreeSet<>(r.names());
        }
    }

    @Test
    void unmergeRestoresTheOriginalWeights() throws IOException {
        PeftModel peft = peft("hf");
        peft.addAdapter("a", new LoraConfig(2, 4, 0, TargetModules.of(TargetModules.ALL_LINEAR), false, null, null,
                LoraConfig.Bias.NONE, null, LoraConfig.Init.RANDOM, null, null));
        peft.addAdapter("b", random(3, 3, null, "query", "intermediate.dense"));
        peft.setActiveAdapters("a", "b");
        assertFalse(Fixtures.loraLayers(peft, "a").containsKey("classifier"), "all-linear leaves the head alone");
        Map<String, float[]> original = snapshot(peft);
        float[] unmerged = logits(peft);

        peft.merge(true, "a", "b");
        peft.merge(true, "a"); // merging again is a no-op
        Map<String, float[]> merged = snapshot(peft);
        assertTrue(Fixtures.maxAbsDiff(original.get(QUERY_0 + ".weight"), merged.get(QUERY_0 + ".weight")) > 1e-2);
        assertClose(original.get("classifier.weight"), merged.get("classifier.weight"), 0f);
        float[] expectedQuery = original.get(QUERY_0 + ".weight").clone();
        float[] da = Fixtures.loraLayers(peft, "a").get(QUERY_0).deltaWeight().toFloatArray();
        float[] db = Fixtures.loraLayers(peft, "b").get(QUERY_0).deltaWeight().toFloatArray();
        for (int i = 0; i < expectedQuery.length; i++) {
            expectedQuery[i] += da[i] + db[i];
        }
        assertClose(expectedQuery, merged.get(QUERY_0 + ".weight"), 1e-6f);
        assertClose(unmerged, logits(peft), TOLERANCE);

        peft.unmerge();
        Map<String, float[]> after = snapshot(peft);
        assertEquals(original.keySet(), after.keySet());
        original.forEach((k, v) -> assertClose(v, after.get(k), 1e-6f));
        assertClose(unmerged, logits(peft), TOLERANCE);
    }

    @Test
    void adapterWithEnableLoraSavesAndReloads(@TempDir Path tmp) throws IOException {
        PeftModel peft = peft("timm");
        peft.addAdapter("qv", new LoraConfig(2, 4, 0, TargetModules.of("qkv"), false, null, null,
                LoraConfig.Bias.NONE, List.of("head"), LoraConfig.Init.RANDOM, List.of(true, false, true), null));
        assertEquals(new Shape(64, 2), Fixtures.loraLayers(peft, "qv").get("blocks.0.attn.qkv").parameters().get("lora_B.weight").getShape(),
                "B has rows for q and v only");
        float[] adapted = logits(peft);
        assertTrue(Fixtures.maxAbsDiff(Fixtures.expected("logits"), adapted) > 1e-2);

        Path dir = tmp.resolve("qv");
        peft.save(dir, "qv");
        JsonNode config = Json.MAPPER.readTree(dir.resolve(PeftModel.CONFIG_FILE).toFile());
        assertEquals("[true,false,true]", config.get("enable_lora").toString());
        try (SafetensorsReader r = SafetensorsReader.open(dir.resolve(PeftModel.WEIGHTS_FILE))) {
            assertEquals("[64, 2]", Arrays.toString(r.info(PeftModel.PREFIX + "blocks.1.attn.qkv.lora_B.weight").shape()));
        }

        PeftModel again = peft("timm");
        again.load(dir, "reloaded");
        assertEquals(List.of(true, false, true), ((LoraConfig) again.config("reloaded")).enableLora());
        assertClose(adapted, logits(again), 1e-6f);
    }

    @Test
    void countsForATinyCaseByHand() throws IOException {
        PeftModel peft = peft("hf");
        assertEquals(TINY_PARAMS, peft.counts().all());
        assertEquals(0, peft.counts().trainable());

        // r=2 on query (A [2,32] + B [32,2] = 128), value at r=1 through rank_pattern (32 + 32 = 64),
        // in 2 layers: 384; the classifier copy: 5 × 32 + 5 = 165.
        peft.addAdapter("a", new LoraConfig(2, 4, 0, TargetModules.of("query", "value"), false, Map.of("value", 1),
                null, LoraConfig.Bias.NONE, List.of("classifier"), LoraConfig.Init.KAIMING, null, null));
        assertEquals(new PeftModel.ParameterCounts(549, TINY_PARAMS + 384), peft.counts());
        // r=1 on intermediate.dense [64, 32]: A [1,32] + B [64,1] = 96, in 2 layers: 192.
        peft.addAdapter("b", LoraConfig.of(1, 1, TargetModules.of("intermediate.dense")));
        long all = TINY_PARAMS + 384 + 192;
        assertEquals(new PeftModel.ParameterCounts(192, all), peft.counts());
        peft.setActiveAdapters("a");
        assertEquals(new PeftModel.ParameterCounts(549, all), peft.counts());
        assertEquals("trainable params: 549 || all params: 20,037 || trainable%: 2.7399", peft.counts().summary());
        peft.setActiveAdapters("a", "b");
        assertEquals(new PeftModel.ParameterCounts(741, all), peft.counts());
        assertEquals("trainable params: 741 || all params: 20,037 || trainable%: 3.6982", peft.counts().summary());
    }

    @Test
    void aNewDoraAdapterStartsFromTheBaseWeightsEvenWhileAnotherIsMerged() throws IOException {
        PeftModel peft = peft("hf");
        float[] w = peft.base().namedParameters().get(QUERY_0 + ".weight").getArray().toFloatArray();
        peft.addAdapter("a", random(2, 4, null, "query"));
        peft.merge(true, "a");
        peft.addAdapter("d", new LoraConfig(2, 4, 0, TargetModules.of("query"), false, null, null,
                LoraConfig.Bias.NONE, null, LoraConfig.Init.KAIMING, null, null, true));
        float[] m = Fixtures.loraLayers(peft, "d").get(QUERY_0).parameters().get("lora_magnitude_vector")
                .getArray().toFloatArray();
        for (int o = 0; o < 32; o++) {
            double norm = 0;
            for (int i = 0; i < 32; i++) {
                norm += (double) w[o * 32 + i] * w[o * 32 + i];
            }
            assertEquals(Math.sqrt(norm), m[o], 1e-5, "row " + o + ": ‖W‖ of the base, not of W + a");
        }
    }
}
