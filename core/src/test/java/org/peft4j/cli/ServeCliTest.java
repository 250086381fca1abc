package org.peft4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.peft4j.cli.CliTest.cli;

/** serve and loadtest refuse bad options with one line and exit 2, before listening or sending anything. */
class ServeCliTest {

    @Test
    void loadtestTargetsLoopbackOnlyAndKeepsAnExistingResult(@TempDir Path tmp) throws IOException {
        CliTest.Run remote = cli("loadtest", "--url", "http://192.0.2.7:8080", "--adapters", "a", "--out", tmp.resolve("r.json").toString());
        assertEquals(2, remote.code(), remote.err());
        assertTrue(remote.err().contains("not a loopback address"), remote.err());
        Path existing = Files.writeString(tmp.resolve("old.json"), "{\"kept\": true}");
        CliTest.Run kept = cli("loadtest", "--url", "http://127.0.0.1:9", "--adapters", "a", "--out", existing.toString());
        assertEquals(2, kept.code(), kept.err());
        assertTrue(kept.err().contains("--overwrite"), kept.err());
        assertEquals("{\"kept\": true}", Files.readString(existing));
        CliTest.Run zipf = cli("loadtest", "--url", "http://127.0.0.1:9", "--adapters", "a", "--distribution", "pareto",
                "--out", tmp.resolve("z.json").toString());
        assertEquals(2, zipf.code(), zipf.err());
        assertTrue(!Files.exists(tmp.resolve("r.json")) && !Files.exists(tmp.resolve("z.json")));
    }

    @Test
    void serveRefusesBadOptionsBeforeLoadingAnything() {
        for (String[] bad : new String[][] {
                {"serve", "--model", "vit-tiny-test", "--batching", "sometimes"},
                {"serve", "--model", "vit-tiny-test", "--adapter-cache-mb", "-1"},
                {"serve", "--model", "vit-tiny-test", "--port", "70000"},
                {"serve", "--model", "vit-tiny-test", "--adapter", "a=/no/such/folder"},
                {"serve", "--model", "vit-tiny-test", "--adapter-dir", "/no/such/folder"}}) {
            CliTest.Run r = cli(bad);
            assertEquals(2, r.code(), String.join(" ", bad) + ": " + r.err());
            assertEquals(1, r.err().strip().lines().filter(l -> l.startsWith("peft4j: error")).count(), r.err());
        }
    }
}
