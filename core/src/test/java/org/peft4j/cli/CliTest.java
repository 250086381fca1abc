package org.peft4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.Fixtures;
import org.peft4j.io.Json;
import org.peft4j.io.SafetensorsReader;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.peft4j.Fixtures.TOLERANCE;
import static org.peft4j.Fixtures.assertClose;

/** The CLI's contracts, run in-process on the golden fixtures and a small generated image folder. */
class CliTest {

    /** Exit code, stdout and stderr of one CLI call. */
    record Run(int code, String out, String err) {
        List<String> lines() {
            return out.lines().filter(l -> l.startsWith("{")).toList();
        }
    }

    static Run cli(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Main.run(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    private static float[] logits(Path file) throws IOException {
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            return r.readFloats("logits");
        }
    }

    @Test
    void predictPrintsOneJsonLinePerInputAndWritesLogits(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("logits.safetensors");
        Run r = cli("predict", "--model", Fixtures.vitTiny("hf").toString(),
                "--input", Fixtures.vitTiny("inputs.safetensors").toString(), "--output", out.toString(),
                "--batch-size", "3");
        assertEquals(0, r.code(), r.err());
        assertEquals(4, r.lines().size(), r.out());
        JsonNode first = Json.MAPPER.readTree(r.lines().get(0));
        assertEquals("inputs.safetensors#0", first.get("input").asText());
        assertTrue(List.of("circle", "square", "triangle", "cross", "ring").contains(first.get("label").asText()));
        assertTrue(first.get("score").asDouble() > 0.2 && first.get("score").asDouble() <= 1.0);
        assertClose(Fixtures.expected("logits"), logits(out), TOLERANCE);
    }

    @Test
    void predictWithPeftAdapterAndMergedModelAgree(@TempDir Path tmp) throws IOException {
        Path withAdapter = tmp.resolve("a.safetensors");
        Run r = cli("predict", "--model", Fixtures.vitTiny("hf").toString(), "--adapter",
                Fixtures.vitTiny("peft-lora-hf").toString(), "--input", Fixtures.vitTiny("inputs.safetensors").toString(),
                "--output", withAdapter.toString());
        assertEquals(0, r.code(), r.err());
        assertClose(Fixtures.expected("logits_lora"), logits(withAdapter), TOLERANCE);

        Path merged = tmp.resolve("merged");
        r = cli("merge-and-unload", "--model", Fixtures.vitTiny("hf").toString(), "--adapter",
                Fixtures.vitTiny("peft-lora-hf").toString(), "--out", merged.toString());
        assertEquals(0, r.code(), r.err());
        Path fromMerged = tmp.resolve("m.safetensors");
        r = cli("predict", "--model", merged.toString(), "--input", Fixtures.vitTiny("inputs.safetensors").toString(),
                "--output", fromMerged.toString());
        assertEquals(0, r.code(), r.err());
        assertClose(Fixtures.expected("logits_lora"), logits(fromMerged), TOLERANCE);
    }

    @Test
    void timmNamedModelPredicts(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("t.safetensors");
        Run r = cli("predict", "--model", Fixtures.vitTiny("timm").toString(), "--adapter",
                Fixtures.vitTiny("peft-lora-timm").toString(), "--input", Fixtures.vitTiny("inputs.safetensors").toString(),
                "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        assertClose(Fixtures.expected("logits_lora_timm"), logits(out), TOLERANCE);
    }

    /** Three classes of 16×16 pictures a ViT can tell apart: a disc, a bar, a cross, jittered. */
    static Path shapesFolder(Path root, int perClass) throws IOException {
        Random random = new Random(7);
        String[] classes = {"bar", "cross", "disc"};
        for (String c : classes) {
            Files.createDirectories(root.resolve(c));
            for (int i = 0; i < perClass; i++) {
                BufferedImage img = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
                Graphics2D g = img.createGraphics();
                g.setColor(new Color(20 + random.nextInt(40), 20 + random.nextInt(40), 20 + random.nextInt(40)));
                g.fillRect(0, 0, 16, 16);
                g.setColor(new Color(180 + random.nextInt(70), 180 + random.nextInt(70), 180 + random.nextInt(70)));
                int dx = random.nextInt(3) - 1;
                int dy = random.nextInt(3) - 1;
                switch (c) {
                    case "bar" -> g.fillRect(2 + dx, 6 + dy, 12, 4);
                    case "cross" -> {
                        g.fillRect(7 + dx, 2 + dy, 2, 12);
                        g.fillRect(2 + dx, 7 + dy, 12, 2);
                    }
                    default -> g.fillOval(4 + dx, 4 + dy, 8, 8);
                }
                g.dispose();
                ImageIO.write(img, "png", root.resolve(c).resolve(c + i + ".png").toFile());
            }
        }
        return root;
    }

    @Test
    void trainEvalPredictOnAnImageFolder(@TempDir Path tmp) throws IOException {
        Path data = shapesFolder(tmp.resolve("shapes"), 24);
        Path out = tmp.resolve("run");
        Run r = cli("train", "--model", "vit-tiny-test", "--data", "folder:" + data, "--method", "lora",
                "--rank", "4", "--epochs", "6", "--lr", "1e-2", "--batch-size", "8", "--no-progress",
                "--val-fraction", "0.25", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode summary = Json.MAPPER.readTree(r.lines().get(r.lines().size() - 1));
        assertTrue(summary.get("accuracy").asDouble() > 0.5, summary.toString()); // chance is 1/3
        assertTrue(summary.get("trainable_params").asLong() < summary.get("all_params").asLong() / 5, summary.toString());
        for (String f : List.of("adapter_config.json", "adapter_model.safetensors", "labels.json", "metrics.jsonl", "summary.json")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
            Json.MAPPER.readTree(line);
        }

        // The adapter only makes sense on the base it was trained on: the preset's random weights
        // are seeded identically in each CLI run (seed 42), so eval sees the same base.
        Run eval = cli("eval", "--model", "vit-tiny-test", "--adapter", out.toString(), "--data", "folder:" + data);
        assertEquals(0, eval.code(), eval.err());
        JsonNode acc = Json.MAPPER.readTree(eval.lines().get(0));
        assertTrue(acc.has("accuracy") && acc.get("n").asInt() > 0, acc.toString());

        Run predict = cli("predict", "--model", "vit-tiny-test", "--adapter", out.toString(),
                "--input", data.resolve("disc").toString());
        assertEquals(0, predict.code(), predict.err());
        assertEquals(24, predict.lines().size());
        assertTrue(predict.lines().stream().allMatch(l -> l.matches(".*\"label\":\"(bar|cross|disc)\".*")), predict.out());
    }

    @Test
    void badInputGivesOneClearLineAndExitCodeOne(@TempDir Path tmp) throws IOException {
        Run missing = cli("predict", "--model", Fixtures.vitTiny("hf").toString(), "--input", tmp.resolve("nope.png").toString());
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("nope.png") && missing.err().contains("not found"), missing.err());

        Path noConfig = Files.createDirectories(tmp.resolve("empty-model"));
        Run model = cli("predict", "--model", noConfig.toString(), "--input", Fixtures.vitTiny("inputs.safetensors").toString());
        assertEquals(1, model.code());
        assertTrue(model.err().contains("config.json"), model.err());

        Path garbage = tmp.resolve("broken.png");
        Files.write(garbage, new byte[] {1, 2, 3, 4, 5});
        Run image = cli("predict", "--model", Fixtures.vitTiny("hf").toString(), "--input", garbage.toString());
        assertEquals(1, image.code());
        assertTrue(image.err().contains("broken.png"), image.err());

        Run data = cli("eval", "--model", Fixtures.vitTiny("hf").toString(), "--data", "mnist");
        assertEquals(1, data.code());
        assertTrue(data.err().contains("fashion-mnist"), data.err());
    }
}
