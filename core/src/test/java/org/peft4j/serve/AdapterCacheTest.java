package org.peft4j.serve;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.Fixtures;
import org.peft4j.ManagedTest;
import org.peft4j.data.ImageFolder;
import org.peft4j.data.ImageTransform;
import org.peft4j.io.Json;
import org.peft4j.models.vit.VitCheckpoint;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.peft.PeftModel;
import org.peft4j.train.FineTuning;
import org.peft4j.tuners.TargetModules;
import org.peft4j.tuners.TunerConfig;
import org.peft4j.tuners.ia3.Ia3Config;
import org.peft4j.tuners.lora.LoraConfig;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Adapters loaded on demand from --adapter-dir into a bounded LRU cache, and batches that mix
 * LoRA adapters with methods that need their own pass: every answer equals that adapter alone.
 */
class AdapterCacheTest extends ManagedTest {

    private final HttpClient http = HttpClient.newHttpClient();

    @TempDir
    Path tmp;

    /** Saves adapter {@code name} of {@code config} with random weights into {@code dir/name}. */
    private void saveRandom(VitForImageClassification vit, Path dir, String name, TunerConfig config, int seed) throws Exception {
        Engine.getInstance().setRandomSeed(seed);
        PeftModel maker = new PeftModel(vit, vit.headPath(), manager);
        maker.addAdapter(name, config);
        for (Parameter p : maker.trainableParameters().values()) {
            p.getArray().set(manager.randomNormal(p.getArray().getShape()).mul(0.2f).add(config instanceof Ia3Config ? 1f : 0f)
                    .toFloatArray());
        }
        maker.save(dir.resolve(name), name);
        maker.deleteAdapter(name);
    }

    private static LoraConfig lora(int r) {
        return LoraConfig.of(r, 2 * r, TargetModules.of("query", "value")).withModulesToSave(List.of("classifier"));
    }

    /** Logits of {@code adapter} alone (null: the base) on test image {@code seed}, loaded fresh from its folder. */
    private float[] alone(Path dir, String adapter, int seed) throws Exception {
        try (ai.djl.ndarray.NDManager own = manager.newSubManager()) {
            VitForImageClassification vit = VitCheckpoint.load(Fixtures.vitTiny("hf"), own);
            PeftModel peft = new PeftModel(vit, vit.headPath(), own);
            if (adapter != null) {
                peft.load(dir.resolve(adapter), adapter);
            }
            ImageTransform t = FineTuning.transformFor(vit);
            float[] pixels = new float[t.floatsPerImage()];
            t.apply(ImageFolder.decode(AdapterServerTest.png(seed), "test"), pixels, 0);
            NDArray x = own.create(pixels, new Shape(1, t.channels(), t.size(), t.size()));
            return peft.forward(x, false).toFloatArray();
        }
    }

    private static float[] logits(HttpResponse<String> r) throws Exception {
        assertEquals(200, r.statusCode(), r.body());
        JsonNode l = Json.MAPPER.readTree(r.body()).get("logits");
        float[] out = new float[l.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) l.get(i).asDouble();
        }
        return out;
    }

    private HttpResponse<String> predict(String url, String adapter, int seed) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url + "/v1/predict"))
                .POST(HttpRequest.BodyPublishers.ofString(AdapterServerTest.request(adapter, AdapterServerTest.png(seed)))).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private String get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    private static double metric(String scrape, String name) {
        return scrape.lines().filter(l -> l.startsWith(name + " ")).mapToDouble(l -> Double.parseDouble(l.split(" ")[1]))
                .findFirst().orElseThrow(() -> new AssertionError(name + " not in " + scrape));
    }

    @Test
    void adaptersLoadOnDemandAndTheLeastRecentlyUsedAreEvictedWithinTheBudget() throws Exception {
        VitForImageClassification vit = VitCheckpoint.load(Fixtures.vitTiny("hf"), manager);
        Path root = java.nio.file.Files.createDirectories(tmp.resolve("adapters"));
        for (int i = 0; i < 4; i++) {
            saveRandom(vit, root, "t" + i, lora(4), 100 + i);
        }
        PeftModel peft = new PeftModel(vit, vit.headPath(), manager);
        peft.load(root.resolve("t0"), "probe");
        long oneAdapter = peft.adapterBytes("probe");
        peft.deleteAdapter("probe");
        int arraysBefore = ((ai.djl.ndarray.BaseNDManager) manager).getManagedArrays().size();
        AdapterServer.Options options = AdapterServer.Options.defaults("127.0.0.1", 0).withBatching(4, 1, 64)
                .withAdapterDir(root, 2 * oneAdapter); // room for two
        try (AdapterServer server = new AdapterServer(peft, vit.config().labels(), FineTuning.transformFor(vit), manager, options)) {
            String url = server.start();
            JsonNode listing = Json.MAPPER.readTree(get(url + "/v1/adapters"));
            assertEquals(List.of("t0", "t1", "t2", "t3"), Json.MAPPER.convertValue(listing.get("available"), List.class));
            String[] order = {"t0", "t1", "t0", "t2", "t3", "t0", "t1"};
            for (int i = 0; i < order.length; i++) {
                Fixtures.assertClose(alone(root, order[i], i), logits(predict(url, order[i], i)), 1e-4f);
                assertTrue(peft.adapterNames().size() <= 2, "within the budget: " + peft.adapterNames());
            }
            // t0 t1 | t0 hit | t2 evicts t1 | t3 evicts t0 | t0 evicts t2 | t1 evicts t3
            String scrape = get(url + "/metrics");
            assertEquals(6, metric(scrape, "peft4j_adapter_cache_loads_total"), scrape);
            assertEquals(1, metric(scrape, "peft4j_adapter_cache_hits_total"), scrape);
            assertEquals(4, metric(scrape, "peft4j_adapter_cache_evictions_total"), scrape);
            assertEquals(2 * oneAdapter, metric(scrape, "peft4j_adapter_cache_bytes"), scrape);
            listing = Json.MAPPER.readTree(get(url + "/v1/adapters"));
            assertEquals(List.of("t0", "t1"), Json.MAPPER.convertValue(listing.get("cached"), List.class));
            for (int i = 0; i < 20; i++) { // loads and evictions free what they held
                logits(predict(url, "t" + (i % 4), 0));
            }
            server.close();
            for (String name : new ArrayList<>(peft.adapterNames())) {
                peft.deleteAdapter(name);
            }
            assertEquals(arraysBefore, ((ai.djl.ndarray.BaseNDManager) manager).getManagedArrays().size(),
                    "no array outlives its adapter");
        }
    }

    @Test
    void batchesMixLoraWithMethodsThatNeedTheirOwnPass() throws Exception {
        VitForImageClassification vit = VitCheckpoint.load(Fixtures.vitTiny("hf"), manager);
        Path root = java.nio.file.Files.createDirectories(tmp.resolve("adapters"));
        saveRandom(vit, root, "a", lora(4), 1);
        saveRandom(vit, root, "b", lora(2), 2);
        LoraConfig l = lora(2);
        VitForImageClassification spare = VitCheckpoint.load(Fixtures.vitTiny("hf"), manager); // its biases get trained
        saveRandom(spare, root, "biased", new LoraConfig(l.r(), l.loraAlpha(), 0, l.targetModules(), false, Map.of(), Map.of(),
                LoraConfig.Bias.ALL, l.modulesToSave(), LoraConfig.Init.KAIMING, null, null, false), 4);
        saveRandom(vit, root, "ia3", Ia3Config.fromJson(Json.MAPPER.readTree(
                "{\"peft_type\":\"IA3\",\"target_modules\":[\"key\",\"value\",\"output.dense\"],\"feedforward_modules\":[\"output.dense\"]}")), 3);
        List<String> names = new ArrayList<>(List.of("a", "ia3", "b", "a", "ia3"));
        names.add(null);
        for (boolean perAdapter : new boolean[] {false, true}) {
            PeftModel peft = new PeftModel(vit, vit.headPath(), manager);
            AdapterServer.Options options = AdapterServer.Options.defaults("127.0.0.1", 0).withBatching(8, 200, 64)
                    .withAdapterDir(root, 1 << 20).withPerAdapter(perAdapter);
            try (AdapterServer server = new AdapterServer(peft, vit.config().labels(), FineTuning.transformFor(vit), manager, options)) {
                String url = server.start();
                List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
                for (int i = 0; i < names.size(); i++) {
                    sent.add(http.sendAsync(HttpRequest.newBuilder(URI.create(url + "/v1/predict")).POST(HttpRequest.BodyPublishers
                            .ofString(AdapterServerTest.request(names.get(i), AdapterServerTest.png(i)))).build(),
                            HttpResponse.BodyHandlers.ofString()));
                }
                for (int i = 0; i < names.size(); i++) {
                    Fixtures.assertClose(alone(root, names.get(i), i), logits(sent.get(i).join()), 1e-4f);
                }
                // an adapter that trains the base's biases in place would change every other adapter: refused, base intact
                HttpResponse<String> biased = predict(url, "biased", 0);
                assertEquals(400, biased.statusCode(), biased.body());
                assertTrue(biased.body().contains("bias"), biased.body());
                Fixtures.assertClose(alone(root, null, 5), logits(predict(url, null, 5)), 1e-4f);
                assertTrue(server.counters().get("batches") < names.size(), "requests shared batches: " + server.counters());
            }
            for (String name : new ArrayList<>(peft.adapterNames())) {
                peft.deleteAdapter(name); // the next server starts from the bare base
            }
        }
    }
}
