package org.peft4j.data;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * A directory with one sub-folder per class (classes sorted by folder name, like torchvision's ImageFolder).
 * Image files are found recursively inside each class folder and decoded lazily, one per {@link #image} call.
 */
public final class ImageFolder {
    static final Set<String> EXTENSIONS = Set.of("png", "jpg", "jpeg", "bmp", "gif");

    private ImageFolder() {
    }

    public static ImageDataset load(Path root) {
        if (!Files.exists(root)) {
            throw new DataException("Image folder " + root + " does not exist");
        }
        if (!Files.isDirectory(root)) {
            throw new DataException("Image folder " + root + " is not a directory");
        }
        List<Path> classDirs = listClassDirs(root);
        if (classDirs.isEmpty()) {
            throw new DataException("Image folder " + root + " has no class sub-folders (expected one folder per class, e.g. "
                    + root.resolve("cat") + "/1.png)");
        }
        List<String> classes = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (Path classDir : classDirs) {
            List<Path> images = listImages(classDir);
            if (images.isEmpty()) {
                throw new DataException("Class folder " + classDir + " has no images (looked for files ending in "
                        + String.join(", ", EXTENSIONS.stream().sorted().map(e -> "." + e).toList()) + ")");
            }
            for (Path image : images) {
                files.add(image);
                labels.add(classes.size());
            }
            classes.add(classDir.getFileName().toString());
        }
        return new LazyFolderDataset(root.toString(), List.copyOf(classes), List.copyOf(files),
                labels.stream().mapToInt(Integer::intValue).toArray());
    }

    /**
     * Decodes one file; gray stays 1 channel, everything else becomes RGB (alpha dropped). A decoder
     * warning counts as corruption: the JPEG reader only warns on a truncated file and fills the rest with gray.
     */
    public static RawImage decode(Path file) {
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            return decode(in, file.toString());
        } catch (IOException e) {
            throw new DataException("Cannot decode image " + file + ": " + e, e);
        }
    }

    /** Decodes encoded image bytes (PNG, JPEG, BMP, GIF); {@code what} names them in errors. */
    public static RawImage decode(byte[] bytes, String what) {
        try (ImageInputStream in = ImageIO.createImageInputStream(new java.io.ByteArrayInputStream(bytes))) {
            return decode(in, what);
        } catch (IOException e) {
            throw new DataException("Cannot decode image " + what + ": " + e, e);
        }
    }

    /** Largest image decoded (pixels), checked from the header before the pixels are allocated. */
    static final long MAX_PIXELS = 100_000_000L;

    private static RawImage decode(ImageInputStream in, String what) {
        try {
            if (in == null) {
                throw new DataException("Cannot open image " + what);
            }
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new DataException("Cannot decode image " + what + ": not a readable PNG/JPEG/BMP/GIF file");
            }
            ImageReader reader = readers.next();
            List<String> warnings = new ArrayList<>();
            reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
            try {
                reader.setInput(in, true, true);
                long pixels = (long) reader.getWidth(0) * reader.getHeight(0);
                if (pixels > MAX_PIXELS) {
                    throw new DataException("Image " + what + " is " + reader.getWidth(0) + "x" + reader.getHeight(0)
                            + ", over the " + MAX_PIXELS + " pixels accepted");
                }
                BufferedImage image = reader.read(0);
                if (!warnings.isEmpty()) {
                    throw new DataException("Corrupt image " + what + ": " + String.join("; ", warnings));
                }
                return toRaw(image);
            } finally {
                reader.dispose();
            }
        } catch (DataException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            // Decoders signal corrupt data with IIOException but also with unchecked exceptions.
            throw new DataException("Cannot decode image " + what + ": " + e, e);
        }
    }

    static RawImage toRaw(BufferedImage image) {
        int width = image.getWidth();
        int height = image.getHeight();
        ColorModel colorModel = image.getColorModel();
        if (colorModel.getColorSpace().getType() == ColorSpace.TYPE_GRAY && colorModel.getNumColorComponents() == 1
                && !(colorModel instanceof IndexColorModel)) {
            // Read the raster: getRGB on gray images applies a linear-to-sRGB curve and changes the values.
            Raster raster = image.getRaster();
            int bits = colorModel.getComponentSize(0);
            int max = (1 << bits) - 1;
            byte[] pixels = new byte[width * height];
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    int sample = raster.getSample(x, y, 0);
                    pixels[y * width + x] = (byte) (bits == 8 ? sample : (sample * 255 + max / 2) / max);
                }
            }
            return new RawImage(width, height, 1, pixels);
        }
        int[] argb = image.getRGB(0, 0, width, height, null, 0, width);
        byte[] pixels = new byte[width * height * 3];
        for (int i = 0; i < argb.length; i++) {
            pixels[3 * i] = (byte) (argb[i] >> 16);
            pixels[3 * i + 1] = (byte) (argb[i] >> 8);
            pixels[3 * i + 2] = (byte) argb[i];
        }
        return new RawImage(width, height, 3, pixels);
    }

    private static List<Path> listClassDirs(Path root) {
        try (Stream<Path> entries = Files.list(root)) {
            return entries.filter(Files::isDirectory)
                    .filter(p -> !p.getFileName().toString().startsWith("."))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new DataException("Cannot list image folder " + root + ": " + e, e);
        }
    }

    private static List<Path> listImages(Path classDir) {
        try (Stream<Path> entries = Files.walk(classDir)) {
            return entries.filter(Files::isRegularFile)
                    .filter(ImageFolder::isImageFile)
                    .filter(p -> !isInHiddenFolder(classDir.relativize(p)))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new DataException("Cannot list class folder " + classDir + ": " + e, e);
        }
    }

    public static boolean isImageFile(Path file) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return !name.startsWith(".") && dot > 0
                && EXTENSIONS.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    /** Skips tool droppings such as .ipynb_checkpoints/ or .thumbnails/. */
    private static boolean isInHiddenFolder(Path relative) {
        for (Path part : relative) {
            if (part.toString().startsWith(".")) {
                return true;
            }
        }
        return false;
    }

    private record LazyFolderDataset(String name, List<String> classes, List<Path> files, int[] labels) implements ImageDataset {
        @Override
        public int size() {
            return files.size();
        }

        @Override
        public int label(int index) {
            Objects.checkIndex(index, labels.length);
            return labels[index];
        }

        @Override
        public RawImage image(int index) {
            return decode(files.get(index));
        }
    }
}
