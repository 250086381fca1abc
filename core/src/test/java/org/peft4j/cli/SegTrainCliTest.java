package org.peft4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.io.Json;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.peft4j.cli.CliTest.cli;

/** train --task segmentation and suite --task segmentation on the tiny SAM: outputs, resuming, bad input. */
class SegTrainCliTest {

    @TempDir
    static Path shared;
    static Path model;

    @BeforeAll
    static void setUp() throws IOException, URISyntaxException {
        model = org.peft4j.Fixtures.tinySam(shared.resolve("sam-tiny"));
    }

    @Test
    void trainsMopeftOnAGeneratedDomainAndReportsMiou(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("run");
        CliTest.Run r = cli("train", "--task", "segmentation", "--model", model.toString(), "--data", "segsuite:cracks",
                "--method", "mopeft", "--submodules", "lora,adapter,vpt", "--epochs", "1", "--batch-size", "32",
                "--no-progress", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode s = Json.MAPPER.readTree(r.lines().get(r.lines().size() - 1));
        assertEquals("mopeft", s.get("method").asText());
        assertTrue(s.get("miou_point").asDouble() >= 0 && s.has("iou_box") && s.has("gates"), s.toString());
        assertTrue(s.get("iou_point").has("crack"), s.toString());
        for (String f : new String[] {"adapter_config.json", "adapter_model.safetensors", "gates.json", "summary.json",
                "metrics.jsonl"}) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        assertTrue(Files.readString(out.resolve("adapter_config.json")).contains("\"vpt\""));
    }

    @Test
    void segFolderDataAndItsMistakes(@TempDir Path tmp) throws IOException {
        Path data = tmp.resolve("seg");
        Files.createDirectories(data.resolve("images"));
        Files.createDirectories(data.resolve("masks"));
        for (int i = 0; i < 6; i++) {
            BufferedImage img = new BufferedImage(40, 30, BufferedImage.TYPE_INT_RGB);
            BufferedImage mask = new BufferedImage(40, 30, BufferedImage.TYPE_BYTE_GRAY);
            for (int y = 0; y < 30; y++) {
                for (int x = 0; x < 40; x++) {
                    boolean on = Math.abs(x - 10 - 3 * i) < 6 && Math.abs(y - 15) < 8;
                    img.setRGB(x, y, on ? 0xE04020 : 0x303030 + x);
                    mask.getRaster().setSample(x, y, 0, on ? 1 : 0);
                }
            }
            ImageIO.write(img, "png", data.resolve("images/im" + i + ".png").toFile());
            ImageIO.write(mask, "png", data.resolve("masks/im" + i + ".png").toFile());
        }
        CliTest.Run ok = cli("train", "--task", "segmentation", "--model", model.toString(), "--data", "segfolder:" + data,
                "--method", "lora", "--epochs", "1", "--no-progress", "--out", tmp.resolve("out").toString());
        assertEquals(0, ok.code(), ok.err());
        assertTrue(ok.out().contains("\"n_test\":1"), ok.out());

        BufferedImage small = new BufferedImage(20, 20, BufferedImage.TYPE_BYTE_GRAY);
        ImageIO.write(small, "png", data.resolve("masks/im0.png").toFile());
        CliTest.Run bad = cli("train", "--task", "segmentation", "--model", model.toString(), "--data", "segfolder:" + data,
                "--method", "lora", "--epochs", "1", "--no-progress", "--out", tmp.resolve("bad").toString());
        assertEquals(2, bad.code(), bad.out());
        assertTrue(bad.err().contains("im0.png") && bad.err().contains("20x20"), bad.err());
        assertFalse(Files.exists(tmp.resolve("bad")));

        CliTest.Run inside = cli("train", "--task", "segmentation", "--model", model.toString(), "--data", "segfolder:" + data,
                "--out", data.resolve("images/run").toString());
        assertEquals(2, inside.code(), inside.out());
        assertFalse(Files.exists(data.resolve("images/run")));

        CliTest.Run unknown = cli("train", "--task", "segmentation", "--model", model.toString(), "--data", "segsuite:moon",
                "--out", tmp.resolve("x").toString());
        assertEquals(2, unknown.code());
        CliTest.Run wrongMethod = cli("train", "--task", "segmentation", "--model", model.toString(), "--data",
                "segsuite:cells", "--method", "ia3", "--out", tmp.resolve("x").toString());
        assertEquals(2, wrongMethod.code());
        assertTrue(wrongMethod.err().contains("decoder-only"), wrongMethod.err());
    }

    @Test
    void segmentationSuiteWritesTablesAndResumes(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("suite");
        String[] args = {"suite", "--task", "segmentation", "--quick", "--model", model.toString(), "--domains", "cells",
                "--methods", "mopeft,decoder-only", "--epochs", "1", "--no-progress", "--out", out.toString()};
        CliTest.Run first = cli(args);
        assertEquals(0, first.code(), first.err());
        for (String f : new String[] {"results.md", "results.csv", "results.json", "report.html"}) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        String md = Files.readString(out.resolve("results.md"));
        assertTrue(md.contains("| mopeft |") && md.contains("cells"), md);
        assertTrue(Files.readString(out.resolve("report.html")).contains("MoPEFT gates"));
        assertTrue(Files.isRegularFile(out.resolve("runs/cells/mopeft/seed0/example.png")));
        CliTest.Run again = cli(args);
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("0 runs trained now, 2 found done"), again.out());
        CliTest.Run other = cli("suite", "--task", "segmentation", "--quick", "--model", model.toString(), "--domains",
                "cells", "--methods", "mopeft", "--epochs", "2", "--no-progress", "--out", out.toString());
        assertEquals(2, other.code(), other.out());
    }
}
