package org.peft4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {

    @TempDir
    Path dir;

    @Test
    void writeCreatesAndReplacesFiles() throws IOException {
        Path target = dir.resolve("sub/config.json");
        AtomicFiles.writeString(target, "first \u00e9");
        assertEquals("first \u00e9", Files.readString(target, StandardCharsets.UTF_8));
        AtomicFiles.write(target, out -> out.write(new byte[] {1, 2, 3}));
        assertEquals(List.of("config.json"), listNames(target.getParent()));
        assertEquals(3, Files.size(target));
    }

    @Test
    void writerMayCloseTheStream() throws IOException {
        // Jackson's writeValue(OutputStream) closes the stream it is given.
        Path target = dir.resolve("data.json");
        AtomicFiles.write(target, out -> Json.MAPPER.writeValue(out, Map.of("a", 1)));
        assertEquals("{\"a\":1}", Files.readString(target));
    }

    @Test
    void failedWriteLeavesTargetUntouchedAndNoTempFile() throws IOException {
        Path target = dir.resolve("adapter.safetensors");
        Files.writeString(target, "old content");
        IOException failure = new IOException("disk full");
        IOException thrown = assertThrows(IOException.class, () -> AtomicFiles.write(target, out -> {
            out.write("partial new content".getBytes(StandardCharsets.UTF_8));
            throw failure;
        }));
        assertSame(failure, thrown);
        assertEquals("old content", Files.readString(target));
        assertEquals(List.of("adapter.safetensors"), listNames(dir));

        assertThrows(IllegalStateException.class, () -> AtomicFiles.write(target, out -> {
            throw new IllegalStateException("bug in writer");
        }));
        assertEquals("old content", Files.readString(target));
        assertEquals(List.of("adapter.safetensors"), listNames(dir));
    }

    @Test
    void replaceDirectoryCreatesThenSwapsContent() throws IOException {
        Path adapter = dir.resolve("out/adapter");
        AtomicFiles.replaceDirectory(adapter, temp -> {
            Files.writeString(temp.resolve("a.txt"), "v1");
            Files.writeString(temp.resolve("stale.txt"), "v1");
        });
        assertEquals(List.of("a.txt", "stale.txt"), listNames(adapter));

        AtomicFiles.replaceDirectory(adapter, temp -> {
            Files.createDirectory(temp.resolve("nested"));
            Files.writeString(temp.resolve("nested/b.txt"), "v2");
            Files.writeString(temp.resolve("a.txt"), "v2");
        });
        assertEquals(List.of("a.txt", "nested"), listNames(adapter));
        assertEquals("v2", Files.readString(adapter.resolve("a.txt")));
        assertEquals("v2", Files.readString(adapter.resolve("nested/b.txt")));
        assertEquals(List.of("adapter"), listNames(adapter.getParent()), "no temp or old dirs left");
    }

    @Test
    void failedFillLeavesPreviousDirectoryIntact() throws IOException {
        Path adapter = dir.resolve("adapter");
        Files.createDirectory(adapter);
        Files.writeString(adapter.resolve("weights.bin"), "previous");

        assertThrows(IOException.class, () -> AtomicFiles.replaceDirectory(adapter, temp -> {
            Files.writeString(temp.resolve("weights.bin"), "half");
            throw new IOException("crash while saving");
        }));
        assertEquals(List.of("weights.bin"), listNames(adapter));
        assertEquals("previous", Files.readString(adapter.resolve("weights.bin")));
        assertEquals(List.of("adapter"), listNames(dir), "temp dir removed");
    }

    @Test
    void replaceDirectoryRefusesToReplaceAFile() throws IOException {
        Path file = dir.resolve("adapter");
        Files.writeString(file, "not a directory");
        IOException e = assertThrows(IOException.class,
                () -> AtomicFiles.replaceDirectory(file, temp -> {}));
        assertTrue(e.getMessage().contains("not a directory"), e.getMessage());
        assertEquals("not a directory", Files.readString(file));
        assertFalse(listNames(dir).stream().anyMatch(name -> name.startsWith(".")));
    }

    private static List<String> listNames(Path directory) throws IOException {
        try (Stream<Path> children = Files.list(directory)) {
            return children.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
