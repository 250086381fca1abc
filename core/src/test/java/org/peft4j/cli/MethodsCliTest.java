package org.peft4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.peft4j.io.Json;
import org.peft4j.io.SafetensorsReader;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.peft4j.cli.CliTest.cli;
import static org.peft4j.Fixtures.assertClose;

/**
 * Every method from the command line on the seeded tiny preset: train writes its adapter folder,
 * eval and predict read it back (the same logits twice), merge-and-unload folds it where the math
 * allows and refuses it (exit 2, nothing written) where it does not; bad method options exit 2.
 */
class MethodsCliTest {

    @TempDir
    static Path shared;
    static Path data;

    @BeforeAll
    static void data() throws IOException {
        data = CliTest.shapesFolder(shared.resolve("shapes"), 6);
    }

    private static CliTest.Run train(Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("train", "--model", "vit-tiny-test", "--data", "folder:" + data,
                "--epochs", "1", "--batch-size", "8", "--no-progress", "--val-fraction", "0.34", "--out", out.toString()));
        args.addAll(List.of(extra));
        return cli(args.toArray(String[]::new));
    }

    private static float[] logits(Path file) throws IOException {
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            return r.readFloats("logits");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"lora", "dora", "pissa", "mlae", "adapter-houlsby", "adapter-pfeiffer", "adaptformer",
            "vpt-shallow", "vpt-deep", "prefix", "bitfit", "ssf", "ia3", "mopeft"})
    void trainEvalPredictMerge(String method, @TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("run");
        CliTest.Run r = train(out, "--method", method);
        assertEquals(0, r.code(), r.err());
        JsonNode summary = Json.MAPPER.readTree(r.lines().get(r.lines().size() - 1));
        assertEquals(method, summary.get("method").asText());
        assertTrue(summary.get("trainable_params").asLong() > 0 && summary.get("trainable_params").asLong()
                < summary.get("all_params").asLong() / 2, summary.toString());
        assertTrue(Files.isRegularFile(out.resolve("adapter_config.json")), method);

        CliTest.Run eval = cli("eval", "--model", "vit-tiny-test", "--adapter", out.toString(), "--data", "folder:" + data);
        assertEquals(0, eval.code(), eval.err());
        Path first = tmp.resolve("a.safetensors");
        Path second = tmp.resolve("b.safetensors");
        for (Path p : List.of(first, second)) {
            CliTest.Run predict = cli("predict", "--model", "vit-tiny-test", "--adapter", out.toString(),
                    "--input", data.resolve("disc").toString(), "--output", p.toString());
            assertEquals(0, predict.code(), predict.err());
        }
        float[] adapted = logits(first);
        assertClose(adapted, logits(second), 0f);

        Path merged = tmp.resolve("merged");
        CliTest.Run merge = cli("merge-and-unload", "--model", "vit-tiny-test", "--adapter", out.toString(),
                "--out", merged.toString());
        boolean mergeable = !List.of("adapter-houlsby", "adapter-pfeiffer", "adaptformer", "vpt-shallow", "vpt-deep",
                "prefix", "mopeft").contains(method);
        if (mergeable) {
            assertEquals(0, merge.code(), merge.err());
            Path fromMerged = tmp.resolve("m.safetensors");
            CliTest.Run predict = cli("predict", "--model", merged.toString(), "--input", data.resolve("disc").toString(),
                    "--output", fromMerged.toString());
            assertEquals(0, predict.code(), predict.err());
            assertClose(adapted, logits(fromMerged), 1e-4f);
        } else {
            assertEquals(2, merge.code(), merge.err());
            assertTrue(merge.err().contains("cannot be merged") && merge.err().contains(out.toString()), merge.err());
            assertFalse(Files.exists(merged), "nothing written");
        }
    }

    @Test
    void methodOptionsAreCheckedBeforeAnythingIsWritten(@TempDir Path tmp) {
        Path out = tmp.resolve("never");
        CliTest.Run unknown = train(out, "--method", "lorax");
        assertEquals(2, unknown.code());
        assertTrue(unknown.err().contains("lorax") && unknown.err().contains("mlae"), unknown.err());

        CliTest.Run misplaced = train(out, "--method", "lora", "--prompt-len", "5");
        assertEquals(2, misplaced.code());
        assertTrue(misplaced.err().contains("--prompt-len") && misplaced.err().contains("lora"), misplaced.err());
        assertEquals(1, misplaced.err().lines().count(), "one line: " + misplaced.err());

        CliTest.Run fixedWithoutSet = train(out, "--method", "mlae", "--mask", "fixed");
        assertEquals(2, fixedWithoutSet.code());
        assertTrue(fixedWithoutSet.err().contains("fixed_experts"), fixedWithoutSet.err());

        CliTest.Run badSchedule = train(out, "--method", "mlae", "--schedule", "zigzag");
        assertEquals(2, badSchedule.code());
        assertTrue(badSchedule.err().contains("zigzag"), badSchedule.err());

        CliTest.Run slicesWithoutQkv = train(out, "--method", "lora", "--qkv-slices", "q,v"); // HF naming: no fused qkv
        assertEquals(2, slicesWithoutQkv.code());
        assertTrue(slicesWithoutQkv.err().contains("qkv"), slicesWithoutQkv.err());

        CliTest.Run headWithRank = train(out, "--method", "head", "--rank", "4");
        assertEquals(2, headWithRank.code());
        assertTrue(headWithRank.err().contains("--rank"), headWithRank.err());

        CliTest.Run benchMisplaced = cli("bench", "--preset", "vit-tiny-test", "--method", "ssf", "--bottleneck", "4");
        assertEquals(2, benchMisplaced.code());
        assertFalse(Files.exists(out), "nothing written");
    }

    @Test
    void anAdapterForAnotherModelShapeExitsTwo(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("run");
        assertEquals(0, train(out, "--method", "vpt-deep", "--prompt-len", "3").code());
        CliTest.Run r = cli("eval", "--model", "vit-fmnist-demo", "--adapter", out.toString(),
                "--data", "folder:" + data);
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains(out.toString()), r.err());
    }

    @Test
    void benchRunsAnyMethod() throws IOException {
        for (String method : List.of("mlae", "vpt-deep", "prefix", "head")) {
            CliTest.Run r = cli("bench", "--preset", "vit-tiny-test", "--method", method, "--batch-size", "2",
                    "--steps", "1");
            assertEquals(0, r.code(), r.err());
            JsonNode j = Json.MAPPER.readTree(r.lines().get(0));
            assertEquals(method, j.get("method").asText());
            assertTrue(j.get("median_s").asDouble() > 0);
        }
    }
}
