package org.peft4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.data.vl.CaptionSample;
import org.peft4j.data.vl.SceneCaptions;
import org.peft4j.io.Json;
import org.peft4j.train.VlFineTuningTest;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.peft4j.cli.CliTest.cli;

/** train --task caption on a user folder, then generate --image with the adapter; the routed adapter refuses merging. */
class VisionLanguageCliTest {

    @TempDir
    Path tmp;

    private Path captionFolder() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("captions"));
        List<String> lines = new ArrayList<>();
        List<CaptionSample> samples = SceneCaptions.generate(20, 9, 24);
        for (int i = 0; i < samples.size(); i++) {
            CaptionSample s = samples.get(i);
            BufferedImage img = new BufferedImage(s.image().width(), s.image().height(), BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < img.getHeight(); y++) {
                for (int x = 0; x < img.getWidth(); x++) {
                    img.setRGB(x, y, (s.image().get(x, y, 0) << 16) | (s.image().get(x, y, 1) << 8) | s.image().get(x, y, 2));
                }
            }
            ImageIO.write(img, "png", dir.resolve("img" + i + ".png").toFile());
            lines.add(Json.MAPPER.writeValueAsString(java.util.Map.of("image", "img" + i + ".png", "captions", s.captions())));
        }
        Files.write(dir.resolve("data.jsonl"), lines);
        return dir;
    }

    @Test
    void trainCaptionsThenGenerateFromAnImage() throws Exception {
        Path data = captionFolder();
        Path text = VlFineTuningTest.tinyTextModel(tmp.resolve("text"));
        Path out = tmp.resolve("run");
        var r = cli("train", "--task", "caption", "--data", "caption:" + data, "--model", "src/test/resources/fixtures/vit-tiny/hf",
                "--text-model", text.toString(), "--method", "lora", "--routing", "vl", "--rank", "4", "--epochs", "2",
                "--batch-size", "16", "--no-progress", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        var summary = Json.MAPPER.readTree(r.out().strip().lines().reduce((a, b) -> b).orElse(""));
        assertTrue(summary.get("trainable_params").asLong() > 0, summary.toString());
        assertEquals("vl", summary.get("routing").asText());
        assertTrue(Files.readString(out.resolve("adapter_config.json")).contains("\"routing\": \"vl\""));

        var g = cli("generate", "--model", text.toString(), "--adapter", out.toString(), "--image", data.resolve("img0.png").toString(),
                "--prompt-ids", "2", "--max-new-tokens", "5");
        assertEquals(0, g.code(), g.err());
        var line = Json.MAPPER.readTree(g.out().strip());
        assertTrue(line.get("ids").size() >= 1 && line.get("ids").size() <= 5 && line.has("text"), line.toString());

        // a routed LoRA depends on the image: it cannot be folded into the weights
        Path merged = tmp.resolve("merged");
        var m = cli("merge-and-unload", "--model", text.toString(), "--adapter", out.toString(), "--out", merged.toString());
        assertEquals(2, m.code(), m.err());
        assertTrue(m.err().contains("cannot be merged"), m.err());
        assertFalse(Files.exists(merged));
    }

    @Test
    void badVisionLanguageInput() throws Exception {
        Path text = VlFineTuningTest.tinyTextModel(tmp.resolve("text"));
        var wrongData = cli("train", "--task", "vqa", "--data", "caption:" + tmp, "--text-model", text.toString(),
                "--model", "src/test/resources/fixtures/vit-tiny/hf", "--out", tmp.resolve("o").toString());
        assertEquals(2, wrongData.code());
        assertTrue(wrongData.err().contains("--data for --task vqa"), wrongData.err());
        var badRouting = cli("train", "--task", "caption", "--routing", "diagonal", "--text-model", text.toString(),
                "--out", tmp.resolve("o2").toString());
        assertEquals(2, badRouting.code());
        assertTrue(badRouting.err().contains("unknown routing"), badRouting.err());
        // an output inside an input folder is refused before anything is written
        Path inside = text.resolve("run");
        var overlap = cli("train", "--task", "caption", "--text-model", text.toString(), "--model", "src/test/resources/fixtures/vit-tiny/hf",
                "--data", "caption:" + tmp.resolve("none"), "--out", inside.toString());
        assertEquals(2, overlap.code());
        assertTrue(overlap.err().contains("the text model folder"), overlap.err());
        assertFalse(Files.exists(inside));
        var noAdapter = cli("generate", "--model", text.toString(), "--adapter", text.toString(), "--image", "x.png",
                "--prompt-ids", "2", "--max-new-tokens", "2");
        assertEquals(2, noAdapter.code());
        assertTrue(noAdapter.err().contains("not a vision-language adapter"), noAdapter.err());
    }
}
