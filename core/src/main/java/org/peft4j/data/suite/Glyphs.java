package org.peft4j.data.suite;

import java.awt.Font;
import java.awt.FontFormatException;
import java.awt.Shape;
import java.awt.font.FontRenderContext;
import java.awt.geom.AffineTransform;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.peft4j.data.DataException;

/**
 * Letter outlines from the DejaVu TrueType files of Debian's fonts-dejavu-core, loaded by path (a logical
 * font name such as "SansSerif" maps to whatever the machine has). Only outlines are taken from the font;
 * {@link Canvas} rasterizes them, so the JDK's glyph rendering (hinting, anti-aliasing) plays no part.
 */
final class Glyphs {
    static final Path FONT_DIR = Path.of("/usr/share/fonts/truetype/dejavu");
    static final String FONT_PACKAGE = "fonts-dejavu-core";
    /** Outlines are read at this many pixels per em and scaled down, so any rounding in the scaler is negligible. */
    private static final float REFERENCE_SIZE = 256f;
    // Anti-aliased with fractional metrics: the JDK loads outlines unhinted for this context.
    private static final FontRenderContext CONTEXT = new FontRenderContext(null, true, true);

    /** The six faces of fonts-dejavu-core. */
    enum Face {
        SANS("DejaVuSans.ttf"),
        SANS_BOLD("DejaVuSans-Bold.ttf"),
        SERIF("DejaVuSerif.ttf"),
        SERIF_BOLD("DejaVuSerif-Bold.ttf"),
        MONO("DejaVuSansMono.ttf"),
        MONO_BOLD("DejaVuSansMono-Bold.ttf");

        final String file;

        Face(String file) {
            this.file = file;
        }
    }

    /** An outline in em units, y up, centred on its bounding box, which is width x height. */
    record Glyph(Shape outline, double width, double height) {
    }

    private static final Map<Face, Font> FONTS = new ConcurrentHashMap<>();
    private static final Map<String, Glyph> GLYPHS = new ConcurrentHashMap<>();

    private Glyphs() {
    }

    static Font font(Face face) {
        return FONTS.computeIfAbsent(face, f -> load(FONT_DIR, f));
    }

    static Glyph glyph(Face face, char ch) {
        return GLYPHS.computeIfAbsent(face.name() + ch, key -> outline(font(face), ch));
    }

    static Font load(Path dir, Face face) {
        Path file = dir.resolve(face.file);
        if (!Files.isRegularFile(file)) {
            throw new DataException("font file " + file + " is missing; the generated suite tasks draw with the "
                    + "DejaVu fonts: install them with `apt-get install " + FONT_PACKAGE + "`");
        }
        try {
            return Font.createFont(Font.TRUETYPE_FONT, file.toFile()).deriveFont(REFERENCE_SIZE);
        } catch (FontFormatException | IOException e) {
            throw new DataException("cannot read font file " + file + " (" + e.getMessage() + "); reinstall "
                    + FONT_PACKAGE, e);
        }
    }

    private static Glyph outline(Font font, char ch) {
        // Java's glyph space is y down with the baseline at 0; flip to y up and scale to em units.
        Shape raw = font.createGlyphVector(CONTEXT, new char[] {ch}).getOutline();
        AffineTransform toEm = AffineTransform.getScaleInstance(1 / REFERENCE_SIZE, -1 / REFERENCE_SIZE);
        Shape em = toEm.createTransformedShape(raw);
        double[] b = Shapes.bounds(em);
        Shape centred = AffineTransform.getTranslateInstance(-(b[0] + b[2]) / 2, -(b[1] + b[3]) / 2)
                .createTransformedShape(em);
        return new Glyph(centred, b[2] - b[0], b[3] - b[1]);
    }
}
