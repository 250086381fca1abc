package org.peft4j.serve;

import ai.djl.engine.Engine;
import ai.djl.nn.Parameter;
import org.junit.jupiter.api.Test;
import org.peft4j.Fixtures;
import org.peft4j.ManagedTest;
import org.peft4j.models.vit.VitCheckpoint;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.peft.PeftModel;
import org.peft4j.train.FineTuning;
import org.peft4j.tuners.TargetModules;
import org.peft4j.tuners.lora.LoraConfig;

import java.net.URI;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The load generator: loopback only, seeded draws, and against a real server counts and statuses that add up. */
class LoadTestTest extends ManagedTest {

    @Test
    void onlyLoopbackServers() {
        assertEquals(URI.create("http://127.0.0.1:8080"), LoadTest.loopback("http://127.0.0.1:8080/"));
        LoadTest.loopback("http://[::1]:9");
        assertThrows(IllegalArgumentException.class, () -> LoadTest.loopback("http://192.0.2.7:8080"));
        assertThrows(IllegalArgumentException.class, () -> LoadTest.loopback("ftp://127.0.0.1/"));
        assertThrows(IllegalArgumentException.class, () -> LoadTest.loopback("not a url"));
    }

    @Test
    void adapterDrawsAreSeededUniformOrZipf() {
        int[] uniform = counts(LoadTest.draw(40_000, 4, false, 1), 4);
        for (int c : uniform) {
            assertEquals(10_000, c, 400, Arrays.toString(uniform));
        }
        int[] zipf = counts(LoadTest.draw(40_000, 4, true, 1), 4);
        double h = 1 + 1 / 2.0 + 1 / 3.0 + 1 / 4.0;
        for (int k = 0; k < 4; k++) {
            assertEquals(40_000 / h / (k + 1), zipf[k], 400, Arrays.toString(zipf)); // P(k) ∝ 1/(k+1)
        }
        assertArrayEquals(LoadTest.draw(100, 7, true, 5), LoadTest.draw(100, 7, true, 5));
    }

    private static int[] counts(int[] draws, int n) {
        int[] c = new int[n];
        for (int d : draws) {
            c[d]++;
        }
        return c;
    }

    @Test
    void againstAServerEveryRequestIsCountedAndOverloadOnlyGives503() throws Exception {
        VitForImageClassification vit = VitCheckpoint.load(Fixtures.vitTiny("hf"), manager);
        PeftModel peft = new PeftModel(vit, vit.headPath(), manager);
        Engine.getInstance().setRandomSeed(2);
        for (String name : List.of("a", "b")) {
            peft.addAdapter(name, LoraConfig.of(2, 4, TargetModules.of("query", "value")));
            for (Parameter p : peft.trainableParameters().values()) {
                p.getArray().set(manager.randomNormal(p.getArray().getShape()).toFloatArray());
            }
        }
        peft.disableAdapters();
        List<byte[]> images = LoadTest.generatedImages(3, 16, 0);
        AdapterServer.Options options = AdapterServer.Options.defaults("127.0.0.1", 0).withBatching(8, 2, 64);
        try (AdapterServer server = new AdapterServer(peft, vit.config().labels(), FineTuning.transformFor(vit), manager, options)) {
            URI url = LoadTest.loopback(server.start());
            Map<String, Object> r = LoadTest.run(new LoadTest.Plan(url, java.util.Arrays.asList("a", "b", null, "zz"), 4, 60, false,
                    images, Duration.ofSeconds(60), null, 3));
            assertEquals(60, r.get("sent"));
            @SuppressWarnings("unchecked")
            Map<String, Long> byAdapter = (Map<String, Long>) r.get("requests_by_adapter");
            assertEquals(60L, byAdapter.values().stream().mapToLong(Long::longValue).sum());
            assertEquals(Map.of("404", byAdapter.get("zz")), r.get("errors_by_status"), "only the unknown adapter fails");
            assertEquals(60 - byAdapter.get("zz"), ((Number) r.get("succeeded")).longValue());
            assertTrue(LoadTest.table(r).contains("| 60 |"), LoadTest.table(r));
        }
        // overload: a queue of 1 and batches of 1 under 16 clients answer 200 or 503, nothing else
        AdapterServer.Options tight = AdapterServer.Options.defaults("127.0.0.1", 0).withBatching(1, 0, 1);
        try (AdapterServer server = new AdapterServer(peft, vit.config().labels(), FineTuning.transformFor(vit), manager, tight)) {
            URI url = LoadTest.loopback(server.start());
            Map<String, Object> r = LoadTest.run(new LoadTest.Plan(url, List.of("a", "b"), 16, 200, true, images,
                    Duration.ofSeconds(60), null, 4));
            @SuppressWarnings("unchecked")
            Map<String, Long> errors = (Map<String, Long>) r.get("errors_by_status");
            assertTrue(Set.of("503").containsAll(errors.keySet()), "errors: " + errors);
            assertTrue(errors.getOrDefault("503", 0L) > 0, "the queue overflowed: " + r);
            assertEquals(200L, errors.getOrDefault("503", 0L) + ((Number) r.get("succeeded")).longValue());
        }
    }
}
