package org.peft4j.data.seg;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.data.DataException;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Image + mask folders: pairing, gray and palette masks, class names, and every mismatch named. */
class SegFolderTest {

    private static void image(Path file, int w, int h) throws IOException {
        Files.createDirectories(file.getParent());
        ImageIO.write(new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB), "png", file.toFile());
    }

    private static void grayMask(Path file, int w, int h, int id) throws IOException {
        Files.createDirectories(file.getParent());
        BufferedImage m = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        m.getRaster().setSample(1, 1, 0, id);
        ImageIO.write(m, "png", file.toFile());
    }

    private static void paletteMask(Path file, int w, int h, int id) throws IOException {
        byte[] c = new byte[4];
        BufferedImage m = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_INDEXED, new IndexColorModel(2, 4, c, c, c));
        m.getRaster().setSample(0, 0, 0, id);
        ImageIO.write(m, "png", file.toFile());
    }

    @Test
    void pairsImagesWithTheirMasksAndReadsClassIds(@TempDir Path root) throws IOException {
        image(root.resolve("images/a.png"), 6, 4);
        image(root.resolve("images/b.png"), 5, 5);
        grayMask(root.resolve("masks/a.png"), 6, 4, 2);
        Files.createDirectories(root.resolve("masks"));
        paletteMask(root.resolve("masks/b.png"), 5, 5, 3);
        SegFolder f = SegFolder.open(root);
        assertEquals(2, f.size());
        assertEquals(List.of("background", "class_1", "class_2", "class_3"), f.classes());
        assertEquals(2, f.mask(0).get(1, 1));
        assertEquals(0, f.mask(0).get(0, 0));
        assertEquals(3, f.mask(1).get(0, 0));
        assertEquals(5, f.image(1).width());
        Files.writeString(root.resolve("classes.txt"), "background\ncell\n");
        SegFolder named = SegFolder.open(root);
        assertEquals(List.of("background", "cell"), named.classes());
        DataException e = assertThrows(DataException.class, () -> named.mask(0));
        assertTrue(e.getMessage().contains("a.png") && e.getMessage().contains("class id 2"), e.getMessage());
    }

    @Test
    void mismatchesAreNamed(@TempDir Path root) throws IOException {
        image(root.resolve("images/a.png"), 6, 4);
        grayMask(root.resolve("masks/a.png"), 4, 6, 1);
        DataException size = assertThrows(DataException.class, () -> SegFolder.open(root));
        assertTrue(size.getMessage().contains("masks/a.png") && size.getMessage().contains("4x6"), size.getMessage());
        Files.delete(root.resolve("masks/a.png"));
        DataException missing = assertThrows(DataException.class, () -> SegFolder.open(root));
        assertTrue(missing.getMessage().contains("no mask"), missing.getMessage());
        image(root.resolve("masks/a.png"), 6, 4); // an RGB mask
        DataException rgb = assertThrows(DataException.class, () -> SegFolder.open(root));
        assertTrue(rgb.getMessage().contains("single-channel"), rgb.getMessage());
        assertThrows(DataException.class, () -> SegFolder.open(root.resolve("nowhere")));
    }
}
