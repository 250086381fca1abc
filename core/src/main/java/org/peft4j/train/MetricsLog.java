package org.peft4j.train;

import org.peft4j.io.Json;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.TreeMap;

/** Appends one JSON object per line (JSONL), flushed at once so a crashed run keeps its history. */
final class MetricsLog {

    private final Path file;

    MetricsLog(Path file) throws IOException {
        this.file = file;
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
    }

    void write(Map<String, ?> record) {
        try {
            String line = Json.MAPPER.writeValueAsString(new TreeMap<>(record)) + "\n";
            Files.writeString(file, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot append metrics", e);
        }
    }
}
