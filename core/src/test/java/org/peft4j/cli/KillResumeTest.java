package org.peft4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.io.Json;
import org.peft4j.io.SafetensorsReader;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Crash safety: a training process killed with SIGKILL at random moments and restarted with
 * {@code --resume} ends with the same adapter, bit for bit, as a run that was never interrupted;
 * after every kill each file in the output folder is whole (no half-written JSON or tensors).
 */
class KillResumeTest {

    @Test
    void killedAndResumedEqualsUninterrupted(@TempDir Path tmp) throws Exception {
        Path data = CliTest.shapesFolder(tmp.resolve("shapes"), 12);
        Path whole = tmp.resolve("whole");
        long t0 = System.nanoTime();
        Process p = start(train(data, whole), tmp.resolve("whole.log"));
        assertEquals(0, p.waitFor(), () -> ChildJvm.read(tmp.resolve("whole.log")));
        long runMillis = (System.nanoTime() - t0) / 1_000_000;

        Path killed = tmp.resolve("killed");
        Random random = new Random(7);
        int kills = 0;
        for (int attempt = 0; attempt < 8 && kills < 3; attempt++) {
            List<String> args = train(data, killed);
            args.add("--resume");
            Process child = start(args, tmp.resolve("killed.log"));
            if (attempt == 0) { // anywhere from start-up on: loading, the first epoch
                child.waitFor((long) (runMillis * (0.1 + 0.4 * random.nextDouble())), TimeUnit.MILLISECONDS);
            } else { // after one more epoch ends, then a little later: mid-epoch, mid-checkpoint
                int epochs = evalLines(killed);
                while (child.isAlive() && evalLines(killed) <= epochs) {
                    Thread.sleep(10);
                }
                child.waitFor(random.nextInt(300), TimeUnit.MILLISECONDS);
            }
            if (!child.isAlive()) {
                break; // finished first
            }
            child.destroyForcibly(); // SIGKILL on Linux: no shutdown hook, no finally block runs
            child.waitFor();
            kills++;
            assertEverythingWhole(killed);
        }
        List<String> args = train(data, killed);
        args.add("--resume");
        Process last = start(args, tmp.resolve("killed.log"));
        assertEquals(0, last.waitFor(), () -> ChildJvm.read(tmp.resolve("killed.log")));
        assertTrue(kills >= 2, "only " + kills + " kills landed before the run ended");
        assertTrue(ChildJvm.read(tmp.resolve("killed.log")).contains("resumed from"), "no restart resumed a checkpoint");
        assertEverythingWhole(killed);
        assertArrayEquals(Files.readAllBytes(whole.resolve("adapter_model.safetensors")),
                Files.readAllBytes(killed.resolve("adapter_model.safetensors")));
    }

    private static List<String> train(Path data, Path out) {
        return new ArrayList<>(List.of("train", "--model", "vit-tiny-test", "--data", "folder:" + data, "--method", "lora",
                "--rank", "4", "--epochs", "6", "--lr", "1e-2", "--batch-size", "4", "--no-progress",
                "--val-fraction", "0.25", "--seed", "3", "--out", out.toString()));
    }

    /** The CLI in a child JVM (the same class path, offline, one thread: deterministic sums). */
    private static Process start(List<String> cliArgs, Path log) throws IOException {
        List<String> mainAndArgs = new ArrayList<>(List.of(Main.class.getName()));
        mainAndArgs.addAll(cliArgs);
        return ChildJvm.start(List.of("-Xmx1g", "-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=1",
                "-Dai.djl.pytorch.num_interop_threads=1"), mainAndArgs, log, true);
    }

    /** Epochs the run in {@code out} has logged (metrics.jsonl's eval lines; a resumed run appends). */
    private static int evalLines(Path out) throws IOException {
        Path metrics = out.resolve("metrics.jsonl");
        if (!Files.exists(metrics)) {
            return 0;
        }
        try (Stream<String> lines = Files.lines(metrics)) {
            return (int) lines.filter(l -> l.contains("\"type\":\"eval\"")).count();
        }
    }

    /** Every JSON file parses, every JSONL line parses, every safetensors file reads to its last tensor. */
    private static void assertEverythingWhole(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        List<Path> files;
        try (Stream<Path> walk = Files.walk(dir)) {
            files = walk.filter(Files::isRegularFile).toList();
        }
        for (Path f : files) {
            String name = f.getFileName().toString();
            boolean temporary = false;
            for (Path part : dir.relativize(f)) {
                temporary |= part.toString().startsWith("."); // an atomic write's temporary, never read by anyone
            }
            if (temporary) {
                continue;
            }
            if (name.endsWith(".json")) {
                Json.MAPPER.readTree(f.toFile());
            } else if (name.endsWith(".jsonl")) {
                for (String line : Files.readAllLines(f)) {
                    Json.MAPPER.readTree(line);
                }
            } else if (name.endsWith(".safetensors")) {
                try (SafetensorsReader r = SafetensorsReader.open(f)) {
                    for (String t : r.names()) {
                        r.rawBytes(t);
                    }
                }
            }
        }
    }
}
