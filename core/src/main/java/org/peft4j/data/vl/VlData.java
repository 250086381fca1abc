package org.peft4j.data.vl;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import org.peft4j.data.DataException;
import org.peft4j.data.ImageFolder;
import org.peft4j.data.RawImage;
import org.peft4j.data.SeededShuffle;
import org.peft4j.io.Json;

import java.io.IOException;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Vision-language datasets from a spec: the built-in generated tasks, or the user's own JSON-lines files.
 *
 * <ul>
 *   <li>{@code vqa}: {@link SortOfClevr} questions; {@code caption}: {@link SceneCaptions}. Train and
 *   test come from different seed streams, in the sizes asked for.</li>
 *   <li>{@code vqa:DIR}, {@code caption:DIR}: {@code DIR/train.jsonl} and {@code DIR/test.jsonl}, or a
 *   single {@code DIR/data.jsonl} of which a seeded 20% of the images (with all their lines) is held
 *   out as test, so no image is in both. One JSON object per line (blank lines are skipped):
 *   {@code {"image": "imgs/1.png", "question": "...", "answers": ["...", ...]}} with an optional
 *   {@code "question_type"} (default {@code other}), or {@code {"image": "imgs/1.png", "captions": ["...", ...]}};
 *   a single string stands for a one-element list. Other fields are ignored. Image paths are relative
 *   to the jsonl file and must stay inside DIR; images are decoded by {@link ImageFolder#decode}, once
 *   per file, at their own size. The sizes and image size asked for do not apply.</li>
 * </ul>
 *
 * Every problem in a file is a {@link DataException} naming the file and line.
 */
public final class VlData {

    public static final String VQA = "vqa";
    public static final String CAPTION = "caption";
    public static final String TRAIN_FILE = "train.jsonl";
    public static final String TEST_FILE = "test.jsonl";
    public static final String DATA_FILE = "data.jsonl";
    /** Share of a single data.jsonl's images held out as test. */
    public static final double HOLD_OUT = 0.2;
    public static final int MAX_LINES = 1_000_000;
    /** Longest line read: a longer one is not a sample but a mistake (or an attack). */
    public static final int MAX_LINE_BYTES = 1 << 20;
    public static final String DEFAULT_QUESTION_TYPE = "other";

    /** The two splits and a line saying where they came from. */
    public record Split<T>(List<T> train, List<T> test, String description) {
        public Split {
            train = List.copyOf(train);
            test = List.copyOf(test);
        }
    }

    private interface LineParser<T> {
        T parse(JsonNode line, Where where, RawImage image, String imageName);
    }

    private VlData() {
    }

    public static Split<VqaSample> vqa(String spec, int trainSize, int testSize, int imageSize, long seed) {
        if (VQA.equals(spec)) {
            checkSizes(trainSize, testSize);
            return new Split<>(SortOfClevr.generate(trainSize, SeededShuffle.mix(seed, 1), imageSize),
                    SortOfClevr.generate(testSize, SeededShuffle.mix(seed, 2), imageSize),
                    "sort-of-clevr vqa " + imageSize + "px, " + trainSize + " train / " + testSize + " test questions ("
                            + SortOfClevr.QUESTIONS_PER_IMAGE + " per image), seed " + seed);
        }
        return folder(spec, VQA, seed, VlData::vqaLine);
    }

    public static Split<CaptionSample> caption(String spec, int trainSize, int testSize, int imageSize, long seed) {
        if (CAPTION.equals(spec)) {
            checkSizes(trainSize, testSize);
            return new Split<>(SceneCaptions.generate(trainSize, SeededShuffle.mix(seed, 1), imageSize),
                    SceneCaptions.generate(testSize, SeededShuffle.mix(seed, 2), imageSize),
                    "scene captions " + imageSize + "px, " + trainSize + " train / " + testSize + " test images ("
                            + SceneCaptions.CAPTIONS_PER_IMAGE + " captions each), seed " + seed);
        }
        return folder(spec, CAPTION, seed, VlData::captionLine);
    }

    private static void checkSizes(int trainSize, int testSize) {
        if (trainSize < 1 || testSize < 1 || trainSize > MAX_LINES || testSize > MAX_LINES) {
            throw new IllegalArgumentException("split sizes must be 1.." + MAX_LINES + ", got " + trainSize + "/" + testSize);
        }
    }

    private static VqaSample vqaLine(JsonNode line, Where where, RawImage image, String imageName) {
        String question = text(line, "question", where);
        String type = line.has("question_type") ? text(line, "question_type", where) : DEFAULT_QUESTION_TYPE;
        return new VqaSample(image, imageName, question, type, texts(line, "answers", where));
    }

    private static CaptionSample captionLine(JsonNode line, Where where, RawImage image, String imageName) {
        return new CaptionSample(image, imageName, texts(line, "captions", where));
    }

    // ---- user folders ----

    private static <T> Split<T> folder(String spec, String kind, long seed, LineParser<T> parser) {
        String prefix = kind + ":";
        if (spec == null || !spec.startsWith(prefix) || spec.length() == prefix.length()) {
            throw new IllegalArgumentException("Unknown " + kind + " data '" + spec + "'; accepted forms: " + kind
                    + " (built-in), " + kind + ":DIR (DIR/" + TRAIN_FILE + " + DIR/" + TEST_FILE + ", or DIR/" + DATA_FILE + ")");
        }
        Path dir;
        try {
            dir = Path.of(spec.substring(prefix.length())).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            throw new DataException("Bad " + kind + " folder '" + spec.substring(prefix.length()) + "': " + e.getMessage(), e);
        }
        if (!Files.isDirectory(dir)) {
            throw new DataException(kind + " folder " + dir + " does not exist or is not a directory");
        }
        Path train = dir.resolve(TRAIN_FILE);
        Path test = dir.resolve(TEST_FILE);
        Path data = dir.resolve(DATA_FILE);
        boolean hasTrain = Files.exists(train);
        boolean hasTest = Files.exists(test);
        boolean hasData = Files.exists(data);
        Map<Path, RawImage> images = new HashMap<>();
        if (hasData && !hasTrain && !hasTest) {
            List<Line<T>> lines = read(dir, data, parser, images);
            return holdOut(lines, data, seed);
        }
        if (hasTrain && hasTest && !hasData) {
            List<T> trainSamples = samples(read(dir, train, parser, images));
            List<T> testSamples = samples(read(dir, test, parser, images));
            return new Split<>(trainSamples, testSamples, kind + ":" + dir + ", " + trainSamples.size() + " train / "
                    + testSamples.size() + " test lines from " + TRAIN_FILE + " and " + TEST_FILE);
        }
        throw new DataException(kind + " folder " + dir + " must hold either " + TRAIN_FILE + " and " + TEST_FILE
                + ", or a single " + DATA_FILE + " (20% of its images held out as test); found "
                + (hasTrain ? TRAIN_FILE + " " : "") + (hasTest ? TEST_FILE + " " : "") + (hasData ? DATA_FILE : "")
                + (hasTrain || hasTest || hasData ? "" : "none of them"));
    }

    /** A sample with the image it is about, for holding out whole images. */
    private record Line<T>(T sample, String imageName) {
    }

    private record Where(Path file, int line) {
        DataException error(String what) {
            return new DataException(file + ":" + line + ": " + what);
        }

        DataException error(String what, Throwable cause) {
            return new DataException(file + ":" + line + ": " + what, cause);
        }
    }

    private static <T> List<T> samples(List<Line<T>> lines) {
        return lines.stream().map(Line::sample).toList();
    }

    /** Test = a seeded HOLD_OUT of the distinct images (at least one, never all), with every line about them. */
    private static <T> Split<T> holdOut(List<Line<T>> lines, Path file, long seed) {
        Set<String> distinct = new LinkedHashSet<>();
        lines.forEach(l -> distinct.add(l.imageName()));
        List<String> names = List.copyOf(distinct);
        if (names.size() < 2) {
            throw new DataException(file + ": needs at least 2 different images to hold " + Math.round(HOLD_OUT * 100)
                    + "% of them out as test, found " + names.size());
        }
        int[] order = new int[names.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        SeededShuffle.shuffle(order, seed);
        int held = (int) Math.max(1, Math.min(names.size() - 1, Math.round(HOLD_OUT * names.size())));
        Set<String> test = new HashSet<>();
        for (int i = 0; i < held; i++) {
            test.add(names.get(order[i]));
        }
        List<T> trainSamples = new ArrayList<>();
        List<T> testSamples = new ArrayList<>();
        for (Line<T> l : lines) {
            (test.contains(l.imageName()) ? testSamples : trainSamples).add(l.sample());
        }
        return new Split<>(trainSamples, testSamples, file + ", " + trainSamples.size() + " train / " + testSamples.size()
                + " test lines (" + held + " of " + names.size() + " images held out, seed " + seed + ")");
    }

    private static <T> List<Line<T>> read(Path dir, Path file, LineParser<T> parser, Map<Path, RawImage> images) {
        if (!Files.isRegularFile(file)) {
            throw new DataException(file + " is not a regular file");
        }
        List<Line<T>> lines = new ArrayList<>();
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        try (InputStream in = Files.newInputStream(file)) {
            BoundedLines reader = new BoundedLines(in);
            for (int number = 1; ; number++) {
                Where where = new Where(file, number);
                byte[] bytes = reader.next();
                if (bytes == null) {
                    break;
                }
                if (number > MAX_LINES) {
                    throw where.error("more than " + MAX_LINES + " lines; split the data or sample it down");
                }
                if (bytes.length > MAX_LINE_BYTES) {
                    throw where.error("line longer than " + MAX_LINE_BYTES + " bytes");
                }
                String text;
                try {
                    text = utf8.decode(ByteBuffer.wrap(bytes)).toString();
                } catch (CharacterCodingException e) {
                    throw where.error("not UTF-8 text", e);
                }
                if (text.isBlank()) {
                    continue;
                }
                JsonNode node;
                try {
                    node = Json.MAPPER.readTree(text);
                } catch (JsonProcessingException e) {
                    throw where.error("bad JSON: " + e.getOriginalMessage(), e);
                }
                if (node == null || !node.isObject()) {
                    throw where.error("expected a JSON object, got " + (node == null ? "nothing" : node.getNodeType().toString().toLowerCase(Locale.ROOT)));
                }
                Path image = imagePath(dir, file, text(node, "image", where), where);
                String name = dir.relativize(image).toString().replace(image.getFileSystem().getSeparator(), "/");
                RawImage raw = images.get(image);
                if (raw == null) {
                    try {
                        raw = ImageFolder.decode(image);
                    } catch (DataException e) {
                        throw where.error(e.getMessage(), e);
                    }
                    images.put(image, raw);
                }
                lines.add(new Line<>(parser.parse(node, where, raw, name), name));
            }
        } catch (IOException e) {
            throw new DataException("Cannot read " + file + ": " + e, e);
        }
        if (lines.isEmpty()) {
            throw new DataException(file + ": no samples (every line is blank)");
        }
        return lines;
    }

    private static Path imagePath(Path dir, Path file, String relative, Where where) {
        Path rel;
        try {
            rel = Path.of(relative);
        } catch (InvalidPathException e) {
            throw where.error("bad image path '" + relative + "': " + e.getMessage(), e);
        }
        if (rel.isAbsolute()) {
            throw where.error("image path '" + relative + "' is absolute; paths are relative to the jsonl file");
        }
        Path image = file.getParent().resolve(rel).normalize();
        if (!image.startsWith(dir)) {
            throw where.error("image path '" + relative + "' leads outside " + dir);
        }
        if (!Files.isRegularFile(image)) {
            throw where.error("image " + image + " not found");
        }
        try {
            // A symbolic link inside the folder may still point out of it.
            if (!image.toRealPath().startsWith(dir.toRealPath())) {
                throw where.error("image path '" + relative + "' links outside " + dir);
            }
        } catch (IOException e) {
            throw where.error("cannot resolve image " + image + ": " + e, e);
        }
        return image;
    }

    private static String text(JsonNode node, String field, Where where) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            throw where.error("missing field \"" + field + "\"");
        }
        if (!value.isTextual()) {
            throw where.error("field \"" + field + "\" must be a string, got " + value);
        }
        if (value.textValue().isBlank()) {
            throw where.error("field \"" + field + "\" is empty");
        }
        return value.textValue().strip();
    }

    private static List<String> texts(JsonNode node, String field, Where where) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            throw where.error("missing field \"" + field + "\"");
        }
        if (value.isTextual()) {
            return List.of(text(node, field, where));
        }
        if (!value.isArray()) {
            throw where.error("field \"" + field + "\" must be a list of strings or a string, got " + value);
        }
        if (value.isEmpty()) {
            throw where.error("empty \"" + field + "\"");
        }
        List<String> out = new ArrayList<>(value.size());
        for (JsonNode item : value) {
            if (!item.isTextual() || item.textValue().isBlank()) {
                throw where.error("\"" + field + "\" must hold non-empty strings, got " + item);
            }
            out.add(item.textValue().strip());
        }
        return out;
    }

    /**
     * Lines split at '\n' bytes (never part of a multi-byte UTF-8 character), each decoded on its
     * own so a bad byte is reported at its line. A line longer than MAX_LINE_BYTES is cut off
     * rather than read whole into memory; the caller sees MAX_LINE_BYTES + 1 bytes and refuses it.
     */
    private static final class BoundedLines {
        private final InputStream in;
        private final byte[] buffer = new byte[1 << 16];
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();
        private int position;
        private int limit;

        BoundedLines(InputStream in) {
            this.in = in;
        }

        /** The next line's bytes without its terminator (\n, \r\n), or null at the end. */
        byte[] next() throws IOException {
            line.reset();
            boolean any = false;
            while (true) {
                if (position == limit) {
                    limit = Math.max(0, in.read(buffer, 0, buffer.length));
                    position = 0;
                    if (limit == 0) {
                        return any ? strip() : null;
                    }
                }
                any = true;
                int start = position;
                while (position < limit && buffer[position] != '\n') {
                    position++;
                }
                line.write(buffer, start, Math.min(MAX_LINE_BYTES + 1 - line.size(), position - start));
                if (position < limit) {
                    position++; // the '\n'
                    return strip();
                }
            }
        }

        private byte[] strip() {
            byte[] bytes = line.toByteArray();
            int n = bytes.length;
            return n > 0 && n <= MAX_LINE_BYTES && bytes[n - 1] == '\r' ? Arrays.copyOf(bytes, n - 1) : bytes;
        }
    }
}
