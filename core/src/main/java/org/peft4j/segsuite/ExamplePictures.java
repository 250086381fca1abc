package org.peft4j.segsuite;

import org.peft4j.data.RawImage;
import org.peft4j.data.seg.SegMask;
import org.peft4j.eval.HtmlReports;
import org.peft4j.io.AtomicFiles;
import org.peft4j.segmentation.SegEvaluator;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;

/** One test image as a picture: the image, the true mask over it, the predicted mask over it, side by side, 2x. */
final class ExamplePictures {

    static final String FILE = "example.png";
    private static final int ZOOM = 2;

    private ExamplePictures() {}

    static void write(SegEvaluator.Example e, Path file) throws IOException {
        RawImage img = e.image();
        int w = img.width();
        int h = img.height();
        int gap = 4;
        BufferedImage out = new BufferedImage(ZOOM * (3 * w) + 2 * gap, ZOOM * h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < out.getHeight(); y++) {
            for (int x = 0; x < out.getWidth(); x++) {
                out.setRGB(x, y, 0xFFFFFF);
            }
        }
        for (int panel = 0; panel < 3; panel++) {
            SegMask mask = panel == 1 ? e.truth() : panel == 2 ? e.predicted() : null;
            int ox = panel * (ZOOM * w + gap);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int r = img.get(x, y, 0);
                    int g = img.channels() >= 3 ? img.get(x, y, 1) : r;
                    int b = img.channels() >= 3 ? img.get(x, y, 2) : r;
                    int id = mask == null ? 0 : mask.get(x, y);
                    if (id > 0) {
                        Color c = HtmlReports.PALETTE[(id - 1) % HtmlReports.PALETTE.length];
                        r = (r + 2 * c.getRed()) / 3;
                        g = (g + 2 * c.getGreen()) / 3;
                        b = (b + 2 * c.getBlue()) / 3;
                    }
                    int rgb = (r << 16) | (g << 8) | b;
                    for (int dy = 0; dy < ZOOM; dy++) {
                        for (int dx = 0; dx < ZOOM; dx++) {
                            out.setRGB(ox + ZOOM * x + dx, ZOOM * y + dy, rgb);
                        }
                    }
                }
            }
        }
        AtomicFiles.write(file, o -> ImageIO.write(out, "png", o));
    }
}
