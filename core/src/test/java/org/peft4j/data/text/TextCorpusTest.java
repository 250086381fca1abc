package org.peft4j.data.text;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.data.DataException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Fortune files: separators, skipped files and folders, normalisation, tokens, and the seeded split. */
class TextCorpusTest {

    /** A fortune folder as Debian lays it out, in miniature. */
    static Path fortunes(Path dir) throws IOException {
        Files.writeString(dir.resolve("wisdom"), """
                A day for firm decisions!!!!!  Or is it?
                %
                You will be   honoured
                \tby your peers.
                %
                %
                \t\t-- Mark Twain, "Don't panic"
                %
                """);
        Files.writeString(dir.resolve("art"), "%\n  /\\_/\\\n ( o.o )\n  > ^ <\n%\n_\b_\bB\bBo\bold move.\n");
        Files.write(dir.resolve("wisdom.dat"), new byte[] {0, 0, 0, 2, 1, (byte) 0xFF});
        Files.createSymbolicLink(dir.resolve("wisdom.u8"), dir.resolve("wisdom"));
        Files.createSymbolicLink(dir.resolve("sayings"), dir.resolve("wisdom"));
        Files.writeString(dir.resolve(".hidden"), "hidden text\n");
        Files.createDirectories(dir.resolve("off"));
        Files.writeString(dir.resolve("off/rude"), "offensive text\n%\n");
        return dir;
    }

    @Test
    void readsEachFortuneOnce(@TempDir Path dir) throws IOException {
        TextCorpus corpus = TextCorpus.load(fortunes(dir));
        assertEquals(List.of("Bold move.", // art: the ASCII cat is left out, overstrike removed
                "A day for firm decisions!!!!! Or is it?", "You will be honoured by your peers.",
                "-- Mark Twain, \"Don't panic\""), corpus.documents());
        assertEquals(dir.toString(), corpus.source());
    }

    @Test
    void missingFolderSaysHowToGetIt(@TempDir Path dir) {
        DataException e = assertThrows(DataException.class, () -> TextCorpus.load(dir.resolve("fortunes")));
        assertTrue(e.getMessage().contains(dir.resolve("fortunes").toString()) && e.getMessage().contains("apt-get install fortunes"),
                e.getMessage());
        DataException empty = assertThrows(DataException.class, () -> TextCorpus.load(dir));
        assertTrue(empty.getMessage().contains("no fortunes"), empty.getMessage());
    }

    @Test
    void wordsAreLowercaseWordAndPunctuationRuns() {
        assertEquals(List.of("don", "'", "t", "panic", "...", "it", "'", "s", "42_x", "!", "café", "(", "ok", ")."),
                TextCorpus.words("Don't PANIC... it's 42_x! Café (ok)."));
        assertEquals(List.of(), TextCorpus.words("  \n\t "));
    }

    @Test
    void splitIsSeededDisjointAndComplete() {
        List<String> docs = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            docs.add("document " + i);
        }
        TextCorpus corpus = new TextCorpus("test", docs);
        TextCorpus.Split a = corpus.split(0.2, 3);
        assertEquals(10, a.validation().size());
        assertEquals(40, a.train().size());
        Set<String> all = new HashSet<>(a.train());
        all.addAll(a.validation());
        assertEquals(new HashSet<>(docs), all);
        assertEquals(a, corpus.split(0.2, 3));
        assertNotEquals(a.validation(), corpus.split(0.2, 4).validation());
        assertTrue(docs.indexOf(a.train().get(0)) < docs.indexOf(a.train().get(1)), "corpus order kept");
        assertThrows(IllegalArgumentException.class, () -> corpus.split(1.0, 3));
    }
}
