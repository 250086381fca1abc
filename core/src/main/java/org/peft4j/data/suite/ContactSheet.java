package org.peft4j.data.suite;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.peft4j.data.ImageDataset;
import org.peft4j.data.RawImage;

/** A PNG grid of a dataset's first images, enlarged, each with its class name underneath: for looking at data. */
final class ContactSheet {
    private static final int COLUMNS = 10;
    private static final int ZOOM = 3;
    private static final int CAPTION = 13;
    private static final int PAD = 4;

    private ContactSheet() {
    }

    static void write(ImageDataset ds, int n, Path png) {
        if (n <= 0 || n > ds.size()) {
            throw new IllegalArgumentException("preview of " + ds.name() + ": n must be in 1.." + ds.size() + ", got "
                    + n);
        }
        int columns = Math.min(n, COLUMNS);
        int rows = (n + columns - 1) / columns;
        int cellWidth = Canvas.SIZE * ZOOM + PAD;
        int cellHeight = Canvas.SIZE * ZOOM + CAPTION + PAD;
        BufferedImage sheet = new BufferedImage(columns * cellWidth + PAD, rows * cellHeight + PAD,
                BufferedImage.TYPE_INT_RGB);
        Graphics2D g = sheet.createGraphics();
        try {
            g.setColor(new Color(40, 60, 90));
            g.fillRect(0, 0, sheet.getWidth(), sheet.getHeight());
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setFont(Glyphs.font(Glyphs.Face.SANS).deriveFont(10f));
            g.setColor(Color.WHITE);
            for (int i = 0; i < n; i++) {
                int left = PAD + (i % columns) * cellWidth;
                int top = PAD + (i / columns) * cellHeight;
                RawImage image = ds.image(i);
                for (int y = 0; y < image.height(); y++) {
                    for (int x = 0; x < image.width(); x++) {
                        int v = image.get(x, y, 0);
                        g.setColor(new Color(v, v, v));
                        g.fillRect(left + x * ZOOM, top + y * ZOOM, ZOOM, ZOOM);
                    }
                }
                g.setColor(Color.WHITE);
                g.drawString(ds.classes().get(ds.label(i)), left, top + image.height() * ZOOM + CAPTION - 2);
            }
        } finally {
            g.dispose();
        }
        try {
            Path parent = png.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            if (!ImageIO.write(sheet, "png", png.toFile())) {
                throw new IOException("no PNG writer");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + png, e);
        }
    }
}
