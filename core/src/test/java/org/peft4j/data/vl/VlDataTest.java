package org.peft4j.data.vl;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.data.DataException;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Built-in splits from separate streams; user jsonl folders, the seeded hold-out, and every error naming file and line. */
class VlDataTest {

    @Test
    void builtInSplitsComeFromDifferentStreams() {
        VlData.Split<VqaSample> vqa = VlData.vqa("vqa", 30, 12, 28, 1);
        assertEquals(30, vqa.train().size());
        assertEquals(12, vqa.test().size());
        assertTrue(vqa.description().contains("sort-of-clevr"), vqa.description());
        Set<String> trainImages = vqa.train().stream().map(s -> Arrays.toString(s.image().pixels())).collect(Collectors.toSet());
        assertTrue(vqa.test().stream().noneMatch(s -> trainImages.contains(Arrays.toString(s.image().pixels()))));
        Set<String> trainNames = vqa.train().stream().map(VqaSample::imageName).collect(Collectors.toSet());
        assertTrue(vqa.test().stream().noneMatch(s -> trainNames.contains(s.imageName())));
        VlData.Split<VqaSample> again = VlData.vqa("vqa", 30, 12, 28, 1);
        assertEquals(vqa.test().get(5).answers(), again.test().get(5).answers());
        assertTrue(Arrays.equals(vqa.test().get(5).image().pixels(), again.test().get(5).image().pixels()));
        assertFalse(Arrays.equals(vqa.train().get(0).image().pixels(), VlData.vqa("vqa", 30, 12, 28, 2).train().get(0).image().pixels()));

        VlData.Split<CaptionSample> captions = VlData.caption("caption", 10, 4, 28, 1);
        assertEquals(10, captions.train().size());
        assertEquals(4, captions.test().size());
        assertFalse(Arrays.equals(captions.train().get(0).image().pixels(), captions.test().get(0).image().pixels()));
        assertThrows(IllegalArgumentException.class, () -> VlData.vqa("caption", 1, 1, 28, 1));
        assertThrows(IllegalArgumentException.class, () -> VlData.caption("vqa:", 1, 1, 28, 1));
        assertThrows(IllegalArgumentException.class, () -> VlData.vqa("vqa", 0, 1, 28, 1));
    }

    private static void png(Path file, int width, int rgb) throws IOException {
        Files.createDirectories(file.getParent());
        BufferedImage image = new BufferedImage(width, 3, BufferedImage.TYPE_INT_RGB);
        image.setRGB(0, 0, rgb);
        ImageIO.write(image, "png", file.toFile());
    }

    private static void lines(Path file, String... lines) throws IOException {
        Files.writeString(file, String.join("\n", lines) + "\n");
    }

    @Test
    void readsTrainAndTestFiles(@TempDir Path dir) throws IOException {
        png(dir.resolve("imgs/a.png"), 4, 0xFF0000);
        png(dir.resolve("imgs/b.png"), 5, 0x00FF00);
        lines(dir.resolve("train.jsonl"),
                "{\"image\": \"imgs/a.png\", \"question\": \"what colour\", \"answers\": [\"red\", \"red\", \"orange\"], \"id\": 7}",
                "",
                "{\"image\": \"imgs/a.png\", \"question\": \"how many\", \"answers\": \"1\", \"question_type\": \"count\"}");
        Files.writeString(dir.resolve("test.jsonl"), "{\"image\": \"./imgs/../imgs/b.png\", \"question\": \"is it green\", \"answers\": [\"sí\"]}\r\n");
        VlData.Split<VqaSample> split = VlData.vqa("vqa:" + dir, 1, 1, 28, 0);
        assertEquals(2, split.train().size());
        VqaSample first = split.train().get(0);
        assertEquals("imgs/a.png", first.imageName());
        assertEquals(List.of("red", "red", "orange"), first.answers());
        assertEquals(VlData.DEFAULT_QUESTION_TYPE, first.questionType());
        assertEquals(255, first.image().get(0, 0, 0));
        assertEquals(4, first.image().width());
        assertEquals(List.of("1"), split.train().get(1).answers());
        assertEquals("count", split.train().get(1).questionType());
        assertEquals("imgs/b.png", split.test().get(0).imageName());
        assertEquals(List.of("sí"), split.test().get(0).answers());
        assertEquals(5, split.test().get(0).image().width());
        assertTrue(split.description().contains("2 train / 1 test"), split.description());

        lines(dir.resolve("train.jsonl"), "{\"image\": \"imgs/a.png\", \"captions\": [\"a red dot\", \"red\"]}");
        lines(dir.resolve("test.jsonl"), "{\"image\": \"imgs/b.png\", \"captions\": \"a green dot\"}");
        VlData.Split<CaptionSample> captions = VlData.caption("caption:" + dir, 1, 1, 28, 0);
        assertEquals(List.of("a red dot", "red"), captions.train().get(0).captions());
        assertEquals(List.of("a green dot"), captions.test().get(0).captions());
    }

    @Test
    void holdsOutAFifthOfTheImagesBySeed(@TempDir Path dir) throws IOException {
        StringBuilder data = new StringBuilder();
        for (int i = 0; i < 10; i++) {
            png(dir.resolve("img" + i + ".png"), 3 + i, 0x123456);
            for (int q = 0; q < 2; q++) {
                data.append("{\"image\": \"img").append(i).append(".png\", \"captions\": [\"caption ").append(q).append("\"]}\n");
            }
        }
        Files.writeString(dir.resolve("data.jsonl"), data);
        VlData.Split<CaptionSample> a = VlData.caption("caption:" + dir, 1, 1, 28, 7);
        VlData.Split<CaptionSample> b = VlData.caption("caption:" + dir, 1, 1, 28, 7);
        assertEquals(16, a.train().size());
        assertEquals(4, a.test().size());
        Set<String> testImages = names(a.test());
        assertEquals(2, testImages.size());
        assertTrue(names(a.train()).stream().noneMatch(testImages::contains), "an image in both splits");
        assertEquals(testImages, names(b.test()));
        Set<Set<String>> heldOut = new HashSet<>();
        for (long seed = 0; seed < 10; seed++) {
            heldOut.add(names(VlData.caption("caption:" + dir, 1, 1, 28, seed).test()));
        }
        assertTrue(heldOut.size() > 1, "the seed decides which images are held out");
    }

    private static Set<String> names(List<CaptionSample> samples) {
        return samples.stream().map(CaptionSample::imageName).collect(Collectors.toSet());
    }

    /** Writes data.jsonl with a good first line and {@code bad} second, and expects an error at line 2 saying {@code what}. */
    private static void assertLineError(Path dir, String bad, String what) throws IOException {
        Files.writeString(dir.resolve("data.jsonl"), "{\"image\": \"a.png\", \"question\": \"q\", \"answers\": [\"x\"]}\n" + bad + "\n");
        DataException e = assertThrows(DataException.class, () -> VlData.vqa("vqa:" + dir, 1, 1, 28, 0));
        assertTrue(e.getMessage().contains("data.jsonl:2: ") && e.getMessage().contains(what), e.getMessage());
    }

    @Test
    void everyBadLineIsNamedByFileAndLine(@TempDir Path root) throws IOException {
        Path dir = root.resolve("set");
        png(dir.resolve("a.png"), 4, 0);
        png(root.resolve("outside.png"), 4, 0);
        Files.writeString(dir.resolve("broken.png"), "not a png");
        assertLineError(dir, "{\"image\": \"a.png\", \"question\": ", "bad JSON");
        assertLineError(dir, "[1, 2]", "expected a JSON object");
        assertLineError(dir, "{\"image\": \"a.png\", \"answers\": [\"x\"]}", "missing field \"question\"");
        assertLineError(dir, "{\"question\": \"q\", \"answers\": [\"x\"]}", "missing field \"image\"");
        assertLineError(dir, "{\"image\": \"a.png\", \"question\": \"q\", \"answers\": []}", "empty \"answers\"");
        assertLineError(dir, "{\"image\": \"a.png\", \"question\": \"q\", \"answers\": [\"\"]}", "non-empty strings");
        assertLineError(dir, "{\"image\": \"a.png\", \"question\": \"q\", \"answers\": 3}", "must be a list of strings");
        assertLineError(dir, "{\"image\": \"a.png\", \"question\": \" \", \"answers\": [\"x\"]}", "field \"question\" is empty");
        assertLineError(dir, "{\"image\": \"b.png\", \"question\": \"q\", \"answers\": [\"x\"]}", "not found");
        assertLineError(dir, "{\"image\": \"../outside.png\", \"question\": \"q\", \"answers\": [\"x\"]}", "leads outside");
        assertLineError(dir, "{\"image\": \"" + root.resolve("outside.png") + "\", \"question\": \"q\", \"answers\": [\"x\"]}", "absolute");
        assertLineError(dir, "{\"image\": \"broken.png\", \"question\": \"q\", \"answers\": [\"x\"]}", "broken.png");
        assertLineError(dir, "{\"image\": \"a.png\", \"question\": \"" + "q".repeat(VlData.MAX_LINE_BYTES) + "\"}", "line longer than");
        Files.createSymbolicLink(dir.resolve("link.png"), root.resolve("outside.png"));
        assertLineError(dir, "{\"image\": \"link.png\", \"question\": \"q\", \"answers\": [\"x\"]}", "links outside");

        Files.writeString(dir.resolve("data.jsonl"), "\n".repeat(VlData.MAX_LINES) + "{}\n");
        DataException tooMany = assertThrows(DataException.class, () -> VlData.vqa("vqa:" + dir, 1, 1, 28, 0));
        assertTrue(tooMany.getMessage().contains("data.jsonl:" + (VlData.MAX_LINES + 1) + ": more than"), tooMany.getMessage());

        // The bad byte is reported at its own line, although the reader buffers far beyond line 1.
        String good = "{\"image\": \"a.png\", \"question\": \"q\", \"answers\": [\"x\"]}\r\n" + "\n".repeat(99);
        byte[] head = (good + "{\"image\": \"a.png\", \"question\": \"").getBytes(StandardCharsets.UTF_8);
        byte[] tail = "\", \"answers\": [\"x\"]}\n".getBytes(StandardCharsets.UTF_8);
        byte[] bytes = Arrays.copyOf(head, head.length + 1 + tail.length);
        bytes[head.length] = (byte) 0xC3; // the first byte of a two-byte character, alone
        System.arraycopy(tail, 0, bytes, head.length + 1, tail.length);
        Files.write(dir.resolve("data.jsonl"), bytes);
        DataException utf8 = assertThrows(DataException.class, () -> VlData.vqa("vqa:" + dir, 1, 1, 28, 0));
        assertTrue(utf8.getMessage().contains("data.jsonl:101: not UTF-8"), utf8.getMessage());
    }

    @Test
    void badFoldersAreNamed(@TempDir Path dir) throws IOException {
        DataException missing = assertThrows(DataException.class, () -> VlData.caption("caption:" + dir.resolve("nope"), 1, 1, 28, 0));
        assertTrue(missing.getMessage().contains("nope"), missing.getMessage());
        DataException empty = assertThrows(DataException.class, () -> VlData.caption("caption:" + dir, 1, 1, 28, 0));
        assertTrue(empty.getMessage().contains("train.jsonl") && empty.getMessage().contains("none of them"), empty.getMessage());
        png(dir.resolve("a.png"), 4, 0);
        lines(dir.resolve("train.jsonl"), "{\"image\": \"a.png\", \"captions\": [\"x\"]}");
        DataException noTest = assertThrows(DataException.class, () -> VlData.caption("caption:" + dir, 1, 1, 28, 0));
        assertTrue(noTest.getMessage().contains("found train.jsonl"), noTest.getMessage());
        lines(dir.resolve("test.jsonl"), "", "  ");
        DataException blank = assertThrows(DataException.class, () -> VlData.caption("caption:" + dir, 1, 1, 28, 0));
        assertTrue(blank.getMessage().contains("test.jsonl: no samples"), blank.getMessage());
        Files.delete(dir.resolve("train.jsonl"));
        Files.delete(dir.resolve("test.jsonl"));
        lines(dir.resolve("data.jsonl"), "{\"image\": \"a.png\", \"captions\": [\"x\"]}", "{\"image\": \"a.png\", \"captions\": [\"y\"]}");
        DataException oneImage = assertThrows(DataException.class, () -> VlData.caption("caption:" + dir, 1, 1, 28, 0));
        assertTrue(oneImage.getMessage().contains("data.jsonl: needs at least 2 different images"), oneImage.getMessage());
    }
}
