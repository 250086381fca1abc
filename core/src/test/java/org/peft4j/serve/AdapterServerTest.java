package org.peft4j.serve;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.peft4j.Fixtures;
import org.peft4j.ManagedTest;
import org.peft4j.io.Json;
import org.peft4j.models.vit.VitCheckpoint;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.peft.PeftModel;
import org.peft4j.train.FineTuning;
import org.peft4j.tuners.TargetModules;
import org.peft4j.tuners.lora.LoraConfig;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The HTTP API on a tiny ViT with two LoRA adapters: answers match each adapter alone, errors as specified. */
class AdapterServerTest extends ManagedTest {

    private final HttpClient http = HttpClient.newHttpClient();

    private PeftModel peft(VitForImageClassification vit) {
        Engine.getInstance().setRandomSeed(21);
        PeftModel peft = new PeftModel(vit, vit.headPath(), manager);
        peft.addAdapter("a", LoraConfig.of(4, 8, TargetModules.of("query", "value")).withModulesToSave(List.of("classifier")));
        peft.addAdapter("b", LoraConfig.of(2, 4, TargetModules.of("query", "value")).withModulesToSave(List.of("classifier")));
        for (String name : List.of("a", "b")) {
            peft.setActiveAdapters(name);
            for (Parameter p : peft.trainableParameters().values()) {
                p.getArray().set(manager.randomNormal(p.getArray().getShape()).mul(0.2f).toFloatArray());
            }
        }
        peft.disableAdapters();
        return peft;
    }

    static byte[] png(int seed) throws Exception {
        BufferedImage img = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
        Random r = new Random(seed);
        for (int y = 0; y < 16; y++) {
            for (int x = 0; x < 16; x++) {
                img.setRGB(x, y, r.nextInt(1 << 24));
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    private HttpResponse<String> post(String url, String body, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url + "/v1/predict")).POST(HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static String request(String adapter, byte[] png) throws Exception {
        Map<String, Object> m = new java.util.HashMap<>();
        m.put("adapter", adapter);
        m.put("image", Base64.getEncoder().encodeToString(png));
        m.put("top_k", 3);
        return Json.MAPPER.writeValueAsString(m);
    }

    @Test
    void mixedBatchesAnswerLikeEachAdapterAlone() throws Exception {
        VitForImageClassification vit = VitCheckpoint.load(Fixtures.vitTiny("hf"), manager);
        PeftModel peft = peft(vit);
        var transform = FineTuning.transformFor(vit);
        AdapterServer.Options options = AdapterServer.Options.defaults("127.0.0.1", 0).withBatching(8, 50, 64);
        try (AdapterServer server = new AdapterServer(peft, vit.config().labels(), transform, manager, options)) {
            String url = server.start();
            List<String> names = new ArrayList<>(List.of("a", "b", "a", "b", "a"));
            names.add(null);
            List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
            for (int i = 0; i < names.size(); i++) { // concurrently, so that they share batches
                HttpRequest req = HttpRequest.newBuilder(URI.create(url + "/v1/predict"))
                        .POST(HttpRequest.BodyPublishers.ofString(request(names.get(i), png(i)))).build();
                sent.add(http.sendAsync(req, HttpResponse.BodyHandlers.ofString()));
            }
            for (int i = 0; i < names.size(); i++) {
                HttpResponse<String> r = sent.get(i).join();
                assertEquals(200, r.statusCode(), r.body());
                JsonNode json = Json.MAPPER.readTree(r.body());
                assertEquals(3, json.get("top").size());
                float[] logits = new float[json.get("logits").size()];
                for (int k = 0; k < logits.length; k++) {
                    logits[k] = (float) json.get("logits").get(k).asDouble();
                }
                float[] pixels = new float[transform.floatsPerImage()];
                transform.apply(org.peft4j.data.ImageFolder.decode(png(i), "test"), pixels, 0);
                NDArray x = manager.create(pixels, new Shape(1, transform.channels(), transform.size(), transform.size()));
                if (names.get(i) == null) {
                    peft.disableAdapters();
                } else {
                    peft.setActiveAdapters(names.get(i));
                }
                Fixtures.assertClose(peft.forward(x, false).toFloatArray(), logits, 1e-4f);
                peft.disableAdapters();
            }
            assertTrue(server.counters().get("batches") < names.size(), "requests shared batches: " + server.counters());
            // the web page, and the multipart upload it makes
            HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create(url + "/")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, page.statusCode());
            assertTrue(page.body().contains("/v1/predict") && page.body().contains("<select id=\"adapter\""), "the page");
            String boundary = "----peft4jtest";
            ByteArrayOutputStream form = new ByteArrayOutputStream();
            form.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"adapter\"\r\n\r\nb\r\n--" + boundary
                    + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"x.png\"\r\nContent-Type: image/png\r\n\r\n")
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8));
            form.write(png(1));
            form.write(("\r\n--" + boundary + "--\r\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            HttpResponse<String> multipart = http.send(HttpRequest.newBuilder(URI.create(url + "/v1/predict"))
                    .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                    .POST(HttpRequest.BodyPublishers.ofByteArray(form.toByteArray())).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, multipart.statusCode(), multipart.body());
            HttpResponse<String> json = post(url, request("b", png(1)), null);
            assertEquals(Json.MAPPER.readTree(json.body()).get("logits"), Json.MAPPER.readTree(multipart.body()).get("logits"));
            HttpResponse<String> adapters = http.send(HttpRequest.newBuilder(URI.create(url + "/v1/adapters")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertTrue(adapters.body().contains("\"a\"") && adapters.body().contains("\"b\""), adapters.body());
            String metrics = http.send(HttpRequest.newBuilder(URI.create(url + "/metrics")).build(), HttpResponse.BodyHandlers.ofString())
                    .body();
            assertTrue(metrics.contains("peft4j_requests_total{adapter=\"a\",route=\"/v1/predict\",status=\"200\"} 3"), metrics);
            assertTrue(metrics.contains("peft4j_batch_size_count") && metrics.contains("peft4j_queue_depth")
                    && metrics.contains("peft4j_resident_memory_bytes") && metrics.contains("peft4j_request_duration_seconds"), metrics);
        }
    }

    @Test
    void errorsAreJsonWithTheirStatus() throws Exception {
        VitForImageClassification vit = VitCheckpoint.load(Fixtures.vitTiny("hf"), manager);
        PeftModel peft = peft(vit);
        AdapterServer.Options options = AdapterServer.Options.defaults("127.0.0.1", 0).withBatching(4, 1, 16)
                .withLimits(4000, "s3cret");
        try (AdapterServer server = new AdapterServer(peft, vit.config().labels(), FineTuning.transformFor(vit), manager, options)) {
            String url = server.start();
            assertStatus(401, post(url, request("a", png(1)), null));
            assertStatus(401, post(url, request("a", png(1)), "wrong"));
            assertStatus(200, post(url, request("a", png(1)), "s3cret"));
            assertStatus(404, post(url, request("nope", png(1)), "s3cret"));
            String metrics = http.send(HttpRequest.newBuilder(URI.create(url + "/metrics")).header("Authorization", "Bearer s3cret").build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(metrics.contains("status=\"404\"} 1") && metrics.contains("status=\"401\"} 2"), metrics);
            assertStatus(400, post(url, "{not json", "s3cret"));
            assertStatus(400, post(url, "{\"adapter\":\"a\",\"image\":\"%%%\"}", "s3cret"));
            assertStatus(400, post(url, "{\"adapter\":\"a\",\"image\":\"" + Base64.getEncoder().encodeToString(new byte[] {1, 2, 3}) + "\"}",
                    "s3cret"));
            assertStatus(413, post(url, request("a", new byte[6000]), "s3cret"));
            HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create(url + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode(), "health needs no token");
        }
    }

    private static void assertStatus(int status, HttpResponse<String> r) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        if (status >= 400) {
            assertTrue(Json.MAPPER.readTree(r.body()).has("error"), r.body());
        }
    }

    @org.junit.jupiter.api.io.TempDir
    java.nio.file.Path tmp;

    private HttpResponse<String> send(String method, String url, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url));
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void adaptersLoadFromInsideTheAdapterDirOnly() throws Exception {
        VitForImageClassification vit = VitCheckpoint.load(Fixtures.vitTiny("hf"), manager);
        PeftModel peft = peft(vit);
        java.nio.file.Path root = java.nio.file.Files.createDirectories(tmp.resolve("adapters"));
        peft.save(root.resolve("c"), "a"); // a LoRA folder to load under a new name
        java.nio.file.Path outside = java.nio.file.Files.createDirectories(tmp.resolve("outside"));
        peft.save(outside.resolve("d"), "b");
        java.nio.file.Files.createSymbolicLink(root.resolve("link"), outside.resolve("d"));
        java.nio.file.Files.createDirectories(root.resolve("broken"));
        java.nio.file.Files.writeString(root.resolve("broken/adapter_config.json"), "{\"peft_type\": \"LORA\"");
        AdapterServer.Options options = AdapterServer.Options.defaults("127.0.0.1", 0).withBatching(4, 1, 16)
                .withAdapterDir(root, 1 << 20);
        try (AdapterServer server = new AdapterServer(peft, vit.config().labels(), FineTuning.transformFor(vit), manager, options)) {
            String url = server.start();
            assertStatus(201, send("POST", url + "/v1/adapters", "{\"name\":\"c\",\"path\":\"c\"}"));
            assertStatus(409, send("POST", url + "/v1/adapters", "{\"name\":\"c\",\"path\":\"c\"}"));
            assertStatus(400, send("POST", url + "/v1/adapters", "{\"name\":\"x\",\"path\":\"../outside/d\"}"));
            assertStatus(400, send("POST", url + "/v1/adapters", "{\"name\":\"y\",\"path\":\"link\"}"));
            assertStatus(400, send("POST", url + "/v1/adapters", "{\"name\":\"z\",\"path\":\"broken\"}"));
            // the loaded copy of "a" answers like "a"; a failed load left nothing behind
            HttpResponse<String> c = post(url, request("c", png(3)), null);
            HttpResponse<String> a = post(url, request("a", png(3)), null);
            assertStatus(200, c);
            assertEquals(Json.MAPPER.readTree(a.body()).get("logits"), Json.MAPPER.readTree(c.body()).get("logits"));
            assertTrue(!peft.adapterNames().contains("z") && !peft.adapterNames().contains("y"));
            assertStatus(200, send("DELETE", url + "/v1/adapters/c", null));
            assertStatus(404, send("DELETE", url + "/v1/adapters/c", null));
            assertStatus(200, post(url, request("c", png(3)), null)); // adapter-dir/c loads again, on demand
            assertStatus(404, post(url, request("nope", png(3)), null));
        }
    }
}
