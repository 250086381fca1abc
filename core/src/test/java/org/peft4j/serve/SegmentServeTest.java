package org.peft4j.serve;

import ai.djl.engine.Engine;
import ai.djl.nn.Parameter;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.ManagedTest;
import org.peft4j.data.ImageFolder;
import org.peft4j.data.RawImage;
import org.peft4j.io.Json;
import org.peft4j.models.sam.SamCheckpoint;
import org.peft4j.models.sam.SamModel;
import org.peft4j.models.sam.SamPredictor;
import org.peft4j.peft.PeftModel;
import org.peft4j.tuners.TargetModules;
import org.peft4j.tuners.lora.LoraConfig;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SAM behind {@code POST /v1/segment}: masks as SamPredictor gives them, with and without an adapter; bad prompts 400. */
class SegmentServeTest extends ManagedTest {

    @TempDir
    Path tmp;

    private final HttpClient http = HttpClient.newHttpClient();

    private static byte[] image() throws Exception {
        BufferedImage img = new BufferedImage(80, 60, BufferedImage.TYPE_INT_RGB);
        Random r = new Random(3);
        for (int y = 0; y < 60; y++) {
            for (int x = 0; x < 80; x++) {
                img.setRGB(x, y, x < 40 ? 0xC02020 + r.nextInt(32) : r.nextInt(1 << 24));
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    private HttpResponse<String> segment(String url, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url + "/v1/segment")).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static String body(String adapter, byte[] png, String prompts) {
        return "{\"adapter\":" + (adapter == null ? "null" : "\"" + adapter + "\"") + ",\"image\":\""
                + Base64.getEncoder().encodeToString(png) + "\"," + prompts + "}";
    }

    /** The mask SamPredictor gives for a point and a box, thresholded at 0 as the server's PNG is. */
    private boolean[] expected(SamModel sam, RawImage image, int maskIndex) {
        try (ai.djl.ndarray.NDManager step = manager.newSubManager()) {
            SamModel.Masks m = new SamPredictor(sam, image, step).predict(new float[][] {{20, 30}}, new int[] {1},
                    new float[] {5, 5, 60, 50}, true);
            float[] logits = m.masks().toFloatArray();
            boolean[] on = new boolean[80 * 60];
            for (int i = 0; i < on.length; i++) {
                on[i] = logits[maskIndex * on.length + i] > 0;
            }
            return on;
        }
    }

    private static boolean[] decoded(JsonNode mask) throws Exception {
        BufferedImage png = ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(mask.get("png").asText())));
        boolean[] on = new boolean[png.getWidth() * png.getHeight()];
        for (int y = 0; y < png.getHeight(); y++) {
            for (int x = 0; x < png.getWidth(); x++) {
                on[y * png.getWidth() + x] = (png.getRGB(x, y) & 0xFF) > 127;
            }
        }
        return on;
    }

    @Test
    void masksMatchThePredictorWithAndWithoutAnAdapter() throws Exception {
        Path model = org.peft4j.Fixtures.tinySam(tmp.resolve("sam"));
        SamModel sam = SamCheckpoint.load(model, manager);
        PeftModel peft = new PeftModel(sam, null, manager);
        Engine.getInstance().setRandomSeed(5);
        peft.addAdapter("cells", LoraConfig.of(4, 8, TargetModules.of("qkv")));
        for (Parameter p : peft.trainableParameters().values()) {
            p.getArray().set(manager.randomNormal(p.getArray().getShape()).mul(0.3f).toFloatArray());
        }
        byte[] png = image();
        RawImage raw = ImageFolder.decode(png, "test");
        boolean[] adapted = expected(sam, raw, 1);
        peft.disableAdapters();
        boolean[] base = expected(sam, raw, 1);
        AdapterServer.Options options = AdapterServer.Options.defaults("127.0.0.1", 0).withBatching(4, 1, 16);
        try (AdapterServer server = new AdapterServer(peft, null, null, manager, options)) {
            String url = server.start();
            String prompts = "\"points\":[[20,30]],\"boxes\":[[5,5,60,50]],\"multimask\":true";
            for (String adapter : new String[] {null, "cells"}) {
                HttpResponse<String> r = segment(url, body(adapter, png, prompts));
                assertEquals(200, r.statusCode(), r.body());
                JsonNode json = Json.MAPPER.readTree(r.body());
                assertEquals(3, json.get("masks").size(), "multimask: three masks for the one box");
                JsonNode second = json.get("masks").get(1);
                assertTrue(second.get("iou").isNumber() && second.get("area").asLong() >= 0, second.toString());
                boolean[] want = adapter == null ? base : adapted;
                assertTrue(java.util.Arrays.equals(want, decoded(second)), "mask of " + adapter);
            }
            assertTrue(!java.util.Arrays.equals(base, adapted), "the adapter changes the mask");
            HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create(url + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertTrue(health.body().contains("segmentation"), health.body());
            // bad prompts and the wrong route: 400 with a JSON error, nothing else breaks
            for (String bad : new String[] {"\"points\":[[200,30]]", "\"points\":[[20,30,7]]", "\"boxes\":[[50,5,10,50]]",
                    "\"points\":[[\"a\",1]]", "\"points\":5", "\"multimask\":true"}) {
                HttpResponse<String> r = segment(url, body(null, png, bad));
                assertEquals(400, r.statusCode(), bad + " -> " + r.body());
                assertTrue(Json.MAPPER.readTree(r.body()).has("error"), r.body());
            }
            HttpResponse<String> predict = http.send(HttpRequest.newBuilder(URI.create(url + "/v1/predict"))
                    .POST(HttpRequest.BodyPublishers.ofString(body(null, png, "\"top_k\":1"))).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(400, predict.statusCode(), predict.body());
            assertEquals(404, segment(url, body("nope", png, "\"points\":[[1,1]]")).statusCode());
        }
        assertTrue(Files.isDirectory(model));
    }
}
