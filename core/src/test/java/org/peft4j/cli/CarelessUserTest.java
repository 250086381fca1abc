package org.peft4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.Fixtures;
import org.peft4j.io.AtomicFiles;
import org.peft4j.io.Json;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.peft4j.cli.CliTest.cli;

/** The hardening issue's careless user: nothing they had is lost, and every mistake gets a clear error. */
class CarelessUserTest {

    private static Path modelCopy(Path to) throws IOException {
        return Fixtures.copyFiles(Fixtures.vitTiny("hf"), to, "config.json", "model.safetensors");
    }

    /** Refused with an error (exit 2 for a flag, 1 for a file) that holds every one of {@code words}. */
    private static void assertRefused(CliTest.Run r, String... words) {
        assertTrue(r.code() == 1 || r.code() == 2, "exit " + r.code() + ": " + r.out() + r.err());
        for (String w : words) {
            assertTrue(r.err().contains(w), "'" + w + "' not in: " + r.err());
        }
    }

    @Test
    void outputsNeverReplaceInputs(@TempDir Path tmp) throws IOException {
        Path model = modelCopy(tmp.resolve("model"));
        Path adapter = Fixtures.copyFiles(Fixtures.vitTiny("peft-lora-hf"), tmp.resolve("adapter"), "adapter_config.json", "adapter_model.safetensors");
        byte[] weights = Files.readAllBytes(model.resolve("model.safetensors"));
        Path image = tmp.resolve("x.png");
        Files.copy(Path.of("src/test/resources/org/peft4j/fuzz/LoaderFuzzTestInputs/image/rgb.png"), image);

        assertRefused(cli("predict", "--model", model.toString(), "--input", image.toString(),
                "--output", model.resolve("model.safetensors").toString(), "--overwrite"), "--output", "overlap");
        assertRefused(cli("merge-and-unload", "--model", model.toString(), "--adapter", adapter.toString(),
                "--out", model.toString()), "--out", "overlap");
        Path existing = Files.createDirectories(tmp.resolve("existing"));
        Files.writeString(existing.resolve("config.json"), "{\"mine\": true}");
        assertRefused(cli("merge-and-unload", "--model", model.toString(), "--adapter", adapter.toString(),
                "--out", existing.toString()), "--overwrite");
        assertEquals("{\"mine\": true}", Files.readString(existing.resolve("config.json")));
        assertArrayEquals(weights, Files.readAllBytes(model.resolve("model.safetensors")));

        CliTest.Run merged = cli("merge-and-unload", "--model", model.toString(), "--adapter", adapter.toString(),
                "--out", existing.toString(), "--overwrite");
        assertEquals(0, merged.code(), merged.err());
        assertTrue(Files.isRegularFile(existing.resolve("model.safetensors")));

        Path logits = tmp.resolve("logits.safetensors");
        assertEquals(0, cli("predict", "--model", model.toString(), "--input", image.toString(), "--output", logits.toString()).code());
        assertRefused(cli("predict", "--model", model.toString(), "--input", image.toString(), "--output", logits.toString()),
                "--overwrite");
    }

    @Test
    void trainClaimsItsOutputAndLeavesNothingAfterAFailure(@TempDir Path tmp) throws IOException {
        Path data = CliTest.shapesFolder(tmp.resolve("shapes"), 6);
        Path file = Files.writeString(tmp.resolve("notes.txt"), "mine");
        assertRefused(cli("train", "--model", "vit-tiny-test", "--data", "folder:" + data, "--out", file.toString()),
                "is a file");
        Path full = Files.createDirectories(tmp.resolve("full"));
        Files.writeString(full.resolve("keep.txt"), "mine");
        assertRefused(cli("train", "--model", "vit-tiny-test", "--data", "folder:" + data, "--out", full.toString()),
                "--resume", "--overwrite");
        assertEquals("mine", Files.readString(full.resolve("keep.txt")));
        assertRefused(cli("train", "--model", "vit-tiny-test", "--data", "folder:" + data, "--out", tmp.toString(),
                "--overwrite"), "holds the input");

        // A run that fails after it started (the learning rate makes the loss infinite) leaves no --out.
        Path failed = tmp.resolve("failed");
        CliTest.Run r = cli("train", "--model", "vit-tiny-test", "--data", "folder:" + data, "--method", "full",
                "--lr", "1e30", "--max-grad-norm", "0", "--epochs", "3", "--batch-size", "4", "--no-progress",
                "--val-fraction", "0.25", "--out", failed.toString());
        assertTrue(r.code() != 0, r.out());
        assertFalse(Files.exists(failed), "a failed run left " + failed);
    }

    @Test
    void sizesAreBoundedBeforeAllocating(@TempDir Path tmp) throws IOException {
        Path model = modelCopy(tmp.resolve("model"));
        String config = Files.readString(model.resolve("config.json"));
        Files.writeString(model.resolve("config.json"), config.replaceFirst("\"num_hidden_layers\": *\\d+", "\"num_hidden_layers\": 1000000"));
        Path data = CliTest.shapesFolder(tmp.resolve("shapes"), 4);
        assertRefused(cli("train", "--model", model.toString(), "--data", "folder:" + data, "--out", tmp.resolve("a").toString()),
                "config.json", "num_hidden_layers=1000000", "parameters");
        assertRefused(cli("train", "--model", "vit-tiny-test", "--data", "folder:" + data, "--rank", "100000000",
                "--out", tmp.resolve("b").toString()), "r=100000000", "at most");
        assertRefused(cli("bench", "--preset", "vit-b16-224", "--mode", "infer", "--batch-size", "100000"),
                "--batch-size 100000", "at most");
        assertFalse(Files.exists(tmp.resolve("a")) || Files.exists(tmp.resolve("b")));
    }

    @Test
    void mislabelledTensorBytesAreRefused(@TempDir Path tmp) throws IOException {
        Path model = modelCopy(tmp.resolve("model"));
        Path weights = model.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(weights);
        long headerLength = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8);
        String relabelled = header.replaceFirst("\"F32\"", "\"I32\"");
        assertEquals(header.length(), relabelled.length());
        System.arraycopy(relabelled.getBytes(StandardCharsets.UTF_8), 0, bytes, 8, (int) headerLength);
        Files.write(weights, bytes);
        assertRefused(cli("predict", "--model", model.toString(), "--input",
                "src/test/resources/org/peft4j/fuzz/LoaderFuzzTestInputs/image/rgb.png"), "model.safetensors", "I32");
    }

    @Test
    void nanWeightsAreRefused(@TempDir Path tmp) throws IOException {
        Path model = modelCopy(tmp.resolve("model"));
        Path weights = model.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(weights);
        ByteBuffer.wrap(bytes, bytes.length - 4, 4).order(ByteOrder.LITTLE_ENDIAN).putFloat(Float.NaN); // the last tensor's last value
        Files.write(weights, bytes);
        assertRefused(cli("predict", "--model", model.toString(), "--input",
                "src/test/resources/org/peft4j/fuzz/LoaderFuzzTestInputs/image/rgb.png"), "model.safetensors", "NaN");
    }

    @Test
    void imageFolderLayouts(@TempDir Path tmp) throws IOException {
        // train/ + test/ only: test/ is the test split, val comes out of train/ (not two classes "train" and "test").
        Path root = tmp.resolve("data");
        CliTest.shapesFolder(root.resolve("train"), 8);
        CliTest.shapesFolder(root.resolve("test"), 3);
        CliTest.Run r = cli("train", "--model", "vit-tiny-test", "--data", "folder:" + root, "--epochs", "1",
                "--batch-size", "8", "--no-progress", "--val-fraction", "0.25", "--out", tmp.resolve("run").toString());
        assertEquals(0, r.code(), r.err());
        var summary = Json.MAPPER.readTree(r.lines().get(r.lines().size() - 1));
        assertEquals(9, summary.get("n_test").asInt(), summary.toString());
        String labels = Files.readString(tmp.resolve("run").resolve("labels.json"));
        assertTrue(labels.contains("disc") && !labels.contains("test"), labels);

        Path one = tmp.resolve("one");
        CliTest.shapesFolder(one, 4);
        AtomicFiles.deleteRecursively(one.resolve("bar"));
        AtomicFiles.deleteRecursively(one.resolve("cross"));
        assertRefused(cli("train", "--model", "vit-tiny-test", "--data", "folder:" + one, "--out", tmp.resolve("o").toString()),
                "at least two");
    }
}
