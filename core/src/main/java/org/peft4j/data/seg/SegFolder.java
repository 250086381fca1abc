package org.peft4j.data.seg;

import org.peft4j.data.DataException;
import org.peft4j.data.ImageFolder;
import org.peft4j.data.RawImage;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Image + mask pairs from a folder ({@code --data segfolder:PATH}): {@code PATH/images/NAME.ext} and
 * {@code PATH/masks/NAME.png}, paired by file name without extension; each mask a single-channel PNG
 * (8-bit gray or palette) whose values are class ids, of its image's size. Class names come from
 * {@code PATH/classes.txt} (one per line, id 0 = background first), else {@code class_0..class_K} for
 * the largest id found. Pairing and mask sizes are checked up front from the file headers (no pixel is
 * decoded); an unpaired file, a size mismatch or an id without a class is an error naming the files.
 */
public final class SegFolder implements SegmentationDataset {

    public static final String IMAGES = "images";
    public static final String MASKS = "masks";
    public static final String CLASSES = "classes.txt";

    private final Path root;
    private final List<Path> images;
    private final List<Path> masks;
    private final List<String> classes;

    private SegFolder(Path root, List<Path> images, List<Path> masks, List<String> classes) {
        this.root = root;
        this.images = images;
        this.masks = masks;
        this.classes = classes;
    }

    public static SegFolder open(Path root) {
        Path imageDir = root.resolve(IMAGES);
        Path maskDir = root.resolve(MASKS);
        if (!Files.isDirectory(imageDir) || !Files.isDirectory(maskDir)) {
            throw new DataException(root + ": a segmentation folder holds " + IMAGES + "/ and " + MASKS + "/ (paired by file name)");
        }
        Map<String, Path> byStem = new LinkedHashMap<>();
        for (Path p : list(imageDir)) {
            if (byStem.put(stem(p), p) != null) {
                throw new DataException(imageDir + ": two images named '" + stem(p) + "'");
            }
        }
        Map<String, Path> maskByStem = new LinkedHashMap<>();
        for (Path p : list(maskDir)) {
            maskByStem.put(stem(p), p);
        }
        List<Path> images = new ArrayList<>();
        List<Path> masks = new ArrayList<>();
        for (Map.Entry<String, Path> e : byStem.entrySet()) {
            Path mask = maskByStem.remove(e.getKey());
            if (mask == null) {
                throw new DataException(e.getValue() + ": no mask " + maskDir.resolve(e.getKey() + ".png"));
            }
            int[] a = dimensions(e.getValue());
            int[] b = dimensions(mask);
            if (a[0] != b[0] || a[1] != b[1]) {
                throw new DataException(mask + ": mask is " + b[0] + "x" + b[1] + " but its image " + e.getValue()
                        + " is " + a[0] + "x" + a[1]);
            }
            images.add(e.getValue());
            masks.add(mask);
        }
        if (!maskByStem.isEmpty()) {
            throw new DataException(maskByStem.values().iterator().next() + ": a mask without an image in " + imageDir);
        }
        if (images.isEmpty()) {
            throw new DataException(imageDir + ": no images");
        }
        return new SegFolder(root, images, masks, classNames(root, masks));
    }

    private static List<String> classNames(Path root, List<Path> masks) {
        Path file = root.resolve(CLASSES);
        if (Files.isRegularFile(file)) {
            try {
                List<String> names = Files.readAllLines(file).stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
                if (names.size() < 2 || names.size() > 256) {
                    throw new DataException(file + ": needs 2 to 256 class names (background first), got " + names.size());
                }
                return names;
            } catch (IOException e) {
                throw new DataException("Cannot read " + file + ": " + e.getMessage(), e);
            }
        }
        int max = 1;
        for (Path m : masks) {
            SegMask mask = decodeMask(m);
            for (byte id : mask.ids()) {
                max = Math.max(max, id & 0xFF);
            }
        }
        List<String> names = new ArrayList<>();
        for (int i = 0; i <= max; i++) {
            names.add(i == 0 ? "background" : "class_" + i);
        }
        return names;
    }

    @Override
    public String name() {
        return root.toString();
    }

    @Override
    public int size() {
        return images.size();
    }

    @Override
    public List<String> classes() {
        return classes;
    }

    @Override
    public RawImage image(int index) {
        return ImageFolder.decode(images.get(index));
    }

    @Override
    public SegMask mask(int index) {
        SegMask m = decodeMask(masks.get(index));
        for (byte id : m.ids()) {
            if ((id & 0xFF) >= classes.size()) {
                throw new DataException(masks.get(index) + ": class id " + (id & 0xFF) + " but only " + classes.size()
                        + " classes " + (Files.isRegularFile(root.resolve(CLASSES)) ? "in " + root.resolve(CLASSES) : ""));
            }
        }
        return m;
    }

    /** A single-channel PNG's samples (palette indices or gray levels) as class ids. */
    public static SegMask decodeMask(Path file) {
        BufferedImage img;
        try {
            img = ImageIO.read(file.toFile());
        } catch (IOException e) {
            throw new DataException("Cannot decode mask " + file + ": " + e.getMessage(), e);
        }
        if (img == null) {
            throw new DataException("Cannot decode mask " + file + ": not a readable PNG");
        }
        Raster r = img.getRaster();
        if (r.getNumBands() != 1 || img.getColorModel().getComponentSize(0) > 8) {
            throw new DataException(file + ": a mask must be a single-channel 8-bit PNG of class ids (gray or palette), "
                    + "got " + r.getNumBands() + " channels");
        }
        int w = img.getWidth();
        int h = img.getHeight();
        byte[] ids = new byte[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                ids[y * w + x] = (byte) r.getSample(x, y, 0);
            }
        }
        return new SegMask(w, h, ids);
    }

    /** Width and height from the file header, without decoding pixels. */
    private static int[] dimensions(Path file) {
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers == null || !readers.hasNext()) {
                throw new DataException("Cannot decode " + file + ": not a readable PNG/JPEG/BMP/GIF file");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                return new int[] {reader.getWidth(0), reader.getHeight(0)};
            } finally {
                reader.dispose();
            }
        } catch (IOException e) {
            throw new DataException("Cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static List<Path> list(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
        } catch (IOException e) {
            throw new DataException("Cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    private static String stem(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
    }
}
