package org.peft4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ImageFolderTest {
    @TempDir
    Path root;

    @Test
    void classesSortedByFolderNameAndImagesDecoded() throws IOException {
        // Created out of order: labels must follow the sorted folder names, not creation order.
        writeRgb(root.resolve("zebra/b.png"), 0x102030, "png");
        writeRgb(root.resolve("zebra/a.JPG"), 0x808080, "jpg");
        writeRgb(root.resolve("ant/x.png"), 0xFF0000, "png");
        Files.writeString(root.resolve("ant/notes.txt"), "not an image");
        Files.createDirectories(root.resolve(".cache"));

        ImageDataset ds = ImageFolder.load(root);

        assertEquals(List.of("ant", "zebra"), ds.classes());
        assertEquals(3, ds.size());
        assertEquals(0, ds.label(0));
        assertEquals(1, ds.label(1));
        assertEquals(1, ds.label(2));
        assertEquals(root.toString(), ds.name());

        RawImage red = ds.image(0);
        assertEquals(3, red.channels());
        assertEquals(4, red.width());
        assertEquals(3, red.height());
        assertEquals(255, red.get(2, 1, 0));
        assertEquals(0, red.get(2, 1, 1));

        RawImage jpeg = ds.image(1); // zebra/a.JPG sorts before zebra/b.png
        assertEquals(3, jpeg.channels());
        assertTrue(Math.abs(jpeg.get(1, 1, 1) - 0x80) <= 3, "JPEG gray level " + jpeg.get(1, 1, 1));

        RawImage png = ds.image(2);
        assertArrayEquals(new int[] {0x10, 0x20, 0x30}, new int[] {png.get(3, 2, 0), png.get(3, 2, 1), png.get(3, 2, 2)});
    }

    @Test
    void grayPngKeepsExactValuesInOneChannel() throws IOException {
        BufferedImage gray = new BufferedImage(3, 1, BufferedImage.TYPE_BYTE_GRAY);
        gray.getRaster().setSamples(0, 0, 3, 1, 0, new int[] {0, 77, 200});
        Files.createDirectories(root.resolve("only"));
        ImageIO.write(gray, "png", root.resolve("only/g.png").toFile());

        RawImage image = ImageFolder.load(root).image(0);

        assertEquals(1, image.channels());
        assertArrayEquals(new byte[] {0, 77, (byte) 200}, image.pixels());
    }

    @Test
    void alphaIsDropped() throws IOException {
        BufferedImage rgba = new BufferedImage(1, 1, BufferedImage.TYPE_INT_ARGB);
        rgba.setRGB(0, 0, 0x40_0A_0B_0C);
        Files.createDirectories(root.resolve("c"));
        ImageIO.write(rgba, "png", root.resolve("c/a.png").toFile());

        RawImage image = ImageFolder.load(root).image(0);

        assertEquals(3, image.channels());
        assertArrayEquals(new byte[] {0x0A, 0x0B, 0x0C}, image.pixels());
    }

    @Test
    void emptyClassFolderIsNamed() throws IOException {
        writeRgb(root.resolve("cat/1.png"), 0, "png");
        Files.createDirectories(root.resolve("dog"));
        Files.writeString(root.resolve("dog/readme.md"), "no images here");

        DataException e = assertThrows(DataException.class, () -> ImageFolder.load(root));
        assertTrue(e.getMessage().contains(root.resolve("dog").toString()), e.getMessage());
    }

    @Test
    void corruptImageIsNamedWhenDecoded() throws IOException {
        Files.createDirectories(root.resolve("cat"));
        Path bad = root.resolve("cat/x.png");
        Files.write(bad, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
        ImageDataset ds = ImageFolder.load(root);

        DataException e = assertThrows(DataException.class, () -> ds.image(0));
        assertTrue(e.getMessage().contains(bad.toString()), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"png", "jpg"})
    void truncatedImageIsNamed(String format) throws IOException {
        BufferedImage noise = new BufferedImage(40, 30, BufferedImage.TYPE_INT_RGB);
        Random random = new Random(1);
        for (int y = 0; y < 30; y++) {
            for (int x = 0; x < 40; x++) {
                noise.setRGB(x, y, random.nextInt());
            }
        }
        Path file = root.resolve("cat/t." + format);
        Files.createDirectories(file.getParent());
        ImageIO.write(noise, format, file.toFile());
        byte[] whole = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(whole, whole.length / 2));

        DataException e = assertThrows(DataException.class, () -> ImageFolder.load(root).image(0));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    }

    @Test
    void missingRootNotADirectoryAndNoClasses() throws IOException {
        Path missing = root.resolve("missing");
        assertTrue(assertThrows(DataException.class, () -> ImageFolder.load(missing)).getMessage()
                .contains(missing + " does not exist"));

        Path file = Files.writeString(root.resolve("file.txt"), "x");
        assertTrue(assertThrows(DataException.class, () -> ImageFolder.load(file)).getMessage()
                .contains("not a directory"));

        Path empty = Files.createDirectories(root.resolve("empty"));
        assertTrue(assertThrows(DataException.class, () -> ImageFolder.load(empty)).getMessage()
                .contains("no class sub-folders"));
    }

    static void writeRgb(Path file, int rgb, String format) throws IOException {
        BufferedImage image = new BufferedImage(4, 3, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 3; y++) {
            for (int x = 0; x < 4; x++) {
                image.setRGB(x, y, rgb);
            }
        }
        Files.createDirectories(file.getParent());
        if (!ImageIO.write(image, format, file.toFile())) {
            throw new IOException("no ImageIO writer for " + format);
        }
    }
}
