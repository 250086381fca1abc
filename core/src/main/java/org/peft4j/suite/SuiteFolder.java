package org.peft4j.suite;

import com.fasterxml.jackson.databind.JsonNode;
import org.peft4j.io.AtomicFiles;
import org.peft4j.io.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A resumable suite's results folder: its settings.json, written by the first run and checked by
 * every rerun (results of other settings must not mix), and each cell's result.json, reused when
 * present. Shared by the segmentation and the vision-language suites.
 */
public final class SuiteFolder {

    public static final String SETTINGS = "settings.json";
    public static final String RESULT = "result.json";

    /** The folder holds results of other settings. */
    public static final class SettingsMismatch extends RuntimeException {
        SettingsMismatch(String message) {
            super(message);
        }
    }

    private SuiteFolder() {}

    /** Creates {@code outDir} with {@code settings}, or checks that it already holds exactly these. */
    public static void claim(Path outDir, Map<String, Object> settings) throws IOException {
        Files.createDirectories(outDir);
        Path file = outDir.resolve(SETTINGS);
        if (Files.isRegularFile(file)) {
            JsonNode old = Json.readFile(file);
            JsonNode now = Json.MAPPER.valueToTree(settings);
            if (!old.equals(now)) {
                throw new SettingsMismatch(outDir + " holds a suite run with other settings (" + file + "): " + old
                        + "; choose another --out");
            }
        } else {
            AtomicFiles.writeString(file, Json.toPythonStyle(settings) + "\n");
        }
    }

    /** A cell's recorded result, or null when the cell has not finished. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> finished(Path cellDir) throws IOException {
        Path file = cellDir.resolve(RESULT);
        return Files.isRegularFile(file) ? Json.MAPPER.readValue(file.toFile(), Map.class) : null;
    }

    /** Records a cell's result. */
    public static void record(Path cellDir, Map<String, Object> result) throws IOException {
        AtomicFiles.writeString(cellDir.resolve(RESULT), Json.toPythonStyle(result) + "\n");
    }
}
