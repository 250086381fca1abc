package org.peft4j.data.text;

import org.peft4j.data.DataException;
import org.peft4j.data.SeededShuffle;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * English prose for language-model pretraining: the fortunes of Debian's {@code fortunes} package
 * ({@code apt-get install fortunes}, files in {@link #DEFAULT_DIR}), one document per fortune.
 *
 * <p>A fortune file holds texts separated by lines containing only {@code %}. Only the folder's own
 * files are read, not its sub-folders: Debian puts the offensive fortunes in {@code off/} and other
 * languages in folders such as {@code de/}. Skipped: hidden files, the {@code .dat} indexes, and
 * {@code .u8} names (links to the same files). A document is its fortune with overstrike
 * ({@code x\bx}) removed and every whitespace run made one space; it keeps its case. Fortunes that
 * are mostly drawing (fewer letters than other visible characters: ASCII art) are left out.
 */
public record TextCorpus(String source, List<String> documents) {

    public static final Path DEFAULT_DIR = Path.of("/usr/share/games/fortunes");
    /** Largest fortune file read; the biggest Debian ships is a few hundred kB. */
    public static final long MAX_FILE_BYTES = 64L << 20;

    /**
     * The tokens of Hugging Face's {@code Whitespace} pre-tokenizer, {@code \w+|[^\w\s]+}, with
     * Unicode word characters: runs of letters, digits and underscores, and runs of other visible
     * characters ("don't" is "don", "'", "t"; "wait..." is "wait", "..."). The same regex as the
     * tokenizer.json {@link WordVocabulary} writes, so both split text the same way.
     */
    public static final Pattern TOKEN = Pattern.compile("\\w+|[^\\w\\s]+", Pattern.UNICODE_CHARACTER_CLASS);

    private static final Pattern LINE_BREAK = Pattern.compile("\\R");
    private static final Pattern WHITESPACE = Pattern.compile("\\s+", Pattern.UNICODE_CHARACTER_CLASS);
    private static final Pattern OVERSTRIKE = Pattern.compile(".\\x08");
    private static final Pattern CONTROL = Pattern.compile("[\\p{Cc}&&[^\\s]]");

    /** Documents for training and for validation (model selection). */
    public record Split(List<String> train, List<String> validation) {
        public Split {
            train = List.copyOf(train);
            validation = List.copyOf(validation);
        }
    }

    public TextCorpus {
        documents = List.copyOf(documents);
    }

    public static TextCorpus load(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new DataException("Fortune folder " + dir + (Files.exists(dir) ? " is not a directory" : " does not exist")
                    + "; install Debian's fortunes package (apt-get install fortunes) for " + DEFAULT_DIR
                    + ", or give a folder of files whose texts are separated by lines holding only %");
        }
        List<String> documents = new ArrayList<>();
        Set<Path> read = new HashSet<>();
        for (Path file : files(dir)) {
            try {
                if (!read.add(file.toRealPath())) {
                    continue;
                }
                if (Files.size(file) > MAX_FILE_BYTES) {
                    throw new DataException("Fortune file " + file + " is over " + (MAX_FILE_BYTES >> 20) + " MB; not a fortune file?");
                }
                documents.addAll(parse(decode(Files.readAllBytes(file))));
            } catch (IOException e) {
                throw new DataException("Cannot read fortune file " + file + ": " + e, e);
            }
        }
        if (documents.isEmpty()) {
            throw new DataException("Fortune folder " + dir + " has no fortunes (files of texts separated by lines holding only %)");
        }
        return new TextCorpus(dir.toString(), documents);
    }

    /** The documents of one fortune file's text, in file order. */
    public static List<String> parse(String text) {
        List<String> documents = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : LINE_BREAK.split(text, -1)) {
            if (line.strip().equals("%")) {
                add(documents, current);
                current.setLength(0);
            } else {
                current.append(line).append('\n');
            }
        }
        add(documents, current);
        return documents;
    }

    private static void add(List<String> documents, CharSequence text) {
        String doc = normalise(text.toString());
        if (!doc.isEmpty() && isProse(doc)) {
            documents.add(doc);
        }
    }

    /** Lowercased tokens of {@code text} by {@link #TOKEN}. */
    public static List<String> words(String text) {
        List<String> tokens = new ArrayList<>();
        Matcher m = TOKEN.matcher(text.toLowerCase(Locale.ROOT));
        while (m.find()) {
            tokens.add(m.group());
        }
        return tokens;
    }

    /**
     * A seeded {@code validationFraction} of the documents (at least one, never all) for validation,
     * the rest for training; both keep the corpus order.
     */
    public Split split(double validationFraction, long seed) {
        if (!(validationFraction > 0 && validationFraction < 1)) {
            throw new IllegalArgumentException("validation fraction must be in (0, 1), got " + validationFraction);
        }
        if (documents.size() < 2) {
            throw new DataException(source + ": needs at least 2 documents to split, has " + documents.size());
        }
        int[] order = new int[documents.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        SeededShuffle.shuffle(order, seed);
        int held = (int) Math.max(1, Math.min(documents.size() - 1, Math.round(validationFraction * documents.size())));
        boolean[] validation = new boolean[documents.size()];
        for (int i = 0; i < held; i++) {
            validation[order[i]] = true;
        }
        List<String> train = new ArrayList<>();
        List<String> val = new ArrayList<>();
        for (int i = 0; i < documents.size(); i++) {
            (validation[i] ? val : train).add(documents.get(i));
        }
        return new Split(train, val);
    }

    private static List<Path> files(Path dir) {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.filter(Files::isRegularFile)
                    .filter(p -> {
                        String name = p.getFileName().toString();
                        return !name.startsWith(".") && !name.endsWith(".dat") && !name.endsWith(".u8");
                    })
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new DataException("Cannot list fortune folder " + dir + ": " + e, e);
        }
    }

    /** UTF-8, with the odd Latin-1 byte replaced rather than failing the whole corpus. */
    private static String decode(byte[] bytes) throws IOException {
        return StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPLACE)
                .onUnmappableCharacter(CodingErrorAction.REPLACE)
                .decode(ByteBuffer.wrap(bytes)).toString();
    }

    private static String normalise(String text) {
        String s = text;
        // Overstrike can chain (bold: "x\bx"); remove pairs until none is left.
        for (String prev = null; !s.equals(prev); ) {
            prev = s;
            s = OVERSTRIKE.matcher(s).replaceAll("");
        }
        s = CONTROL.matcher(s).replaceAll("");
        return WHITESPACE.matcher(s).replaceAll(" ").strip();
    }

    private static boolean isProse(String doc) {
        int letters = 0;
        int others = 0;
        for (int i = 0; i < doc.length(); i++) {
            char c = doc.charAt(i);
            if (Character.isLetter(c)) {
                letters++;
            } else if (!Character.isWhitespace(c)) {
                others++;
            }
        }
        return letters > others;
    }
}
