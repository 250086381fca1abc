package org.peft4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.io.Json;
import org.peft4j.io.SafetensorsReader;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.peft4j.cli.CliTest.cli;

/** peft4j segment on the tiny fixture SAM: masks at the image size, overlays, JSON lines; bad prompts and files exit 2. */
class SegmentCliTest {

    @TempDir
    static Path shared;
    static Path model;
    static Path image;

    @BeforeAll
    static void setUp() throws IOException, URISyntaxException {
        model = org.peft4j.Fixtures.tinySam(shared.resolve("sam-tiny"));
        BufferedImage img = new BufferedImage(80, 60, BufferedImage.TYPE_INT_RGB);
        Random r = new Random(3);
        for (int y = 0; y < 60; y++) {
            for (int x = 0; x < 80; x++) {
                img.setRGB(x, y, r.nextInt(1 << 24));
            }
        }
        image = shared.resolve("in.png");
        ImageIO.write(img, "png", image.toFile());
    }

    @Test
    void masksAtTheImageSizeWithOverlaysAndOneLinePerMask(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("seg");
        CliTest.Run r = cli("segment", "--model", model.toString(), "--input", image.toString(), "--point", "20,30",
                "--point", "70,10,0", "--box", "5,5,60,50", "--multimask", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(3, r.lines().size(), r.out());
        JsonNode first = Json.MAPPER.readTree(r.lines().get(0));
        assertTrue(first.has("iou") && first.has("area"), first.toString());
        assertTrue(Files.isRegularFile(out.resolve("mask-2.png")));
        try (SafetensorsReader m = SafetensorsReader.open(out.resolve("masks.safetensors"))) {
            assertArrayEquals(new long[] {1, 3, 60, 80}, m.info("masks").shape());
            assertArrayEquals(new long[] {1, 3, 32, 32}, m.info("low_res_masks").shape());
            assertArrayEquals(new long[] {1, 3}, m.info("iou_predictions").shape());
        }
        assertEquals(60, ImageIO.read(out.resolve("mask-0.png").toFile()).getHeight());
        CliTest.Run single = cli("segment", "--model", model.toString(), "--input", image.toString(), "--point", "20,30",
                "--out", tmp.resolve("one").toString());
        assertEquals(0, single.code(), single.err());
        assertEquals(1, single.lines().size());
    }

    @Test
    void badPromptsImagesAndCheckpointsExitTwoAndWriteNothing(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("never");
        Path notImage = tmp.resolve("x.png");
        Files.writeString(notImage, "not an image");
        Path broken = tmp.resolve("broken");
        Files.createDirectories(broken);
        Files.copy(model.resolve("config.json"), broken.resolve("config.json"));
        Files.writeString(broken.resolve("model.safetensors"), "garbage");
        String[][] cases = {
            {"--model", model.toString(), "--input", image.toString(), "--point", "90,10"},
            {"--model", model.toString(), "--input", image.toString(), "--point", "10,-1"},
            {"--model", model.toString(), "--input", image.toString(), "--box", "50,5,40,20"},
            {"--model", model.toString(), "--input", image.toString(), "--point", "10,10,2"},
            {"--model", model.toString(), "--input", image.toString()},
            {"--model", model.toString(), "--input", notImage.toString(), "--point", "1,1"},
            {"--model", broken.toString(), "--input", image.toString(), "--point", "1,1"},
        };
        for (String[] c : cases) {
            String[] args = new String[c.length + 3];
            args[0] = "segment";
            System.arraycopy(c, 0, args, 1, c.length);
            args[c.length + 1] = "--out";
            args[c.length + 2] = out.toString();
            CliTest.Run r = cli(args);
            assertEquals(2, r.code(), String.join(" ", c) + ": " + r.err());
            assertEquals(1, r.err().lines().filter(l -> l.startsWith("peft4j: error")).count(), r.err());
            assertFalse(Files.exists(out), String.join(" ", c));
        }
    }
}
