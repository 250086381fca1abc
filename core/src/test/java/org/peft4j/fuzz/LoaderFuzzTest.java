package org.peft4j.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.peft4j.data.DataException;
import org.peft4j.data.ImageFolder;
import org.peft4j.io.Json;
import org.peft4j.io.SafetensorsReader;
import org.peft4j.models.sam.SamCheckpoint;
import org.peft4j.models.vit.VitConfig;
import org.peft4j.peft.PeftConfigs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Every loader of untrusted bytes, fuzzed with Jazzer: whatever the bytes, the loader returns or
 * throws its one documented error (which names the file); any other exception, an
 * OutOfMemoryError or a hang fails. Plain {@code mvn test} replays the committed corpus under
 * {@code src/test/resources/org/peft4j/fuzz/LoaderFuzzTestInputs/} (seconds); {@code JAZZER_FUZZ=1}
 * with {@code -Dtest=LoaderFuzzTest} runs a campaign ({@code tools/fuzz.sh}).
 */
class LoaderFuzzTest {

    /** A loader of one file. */
    private interface Loader {
        void load(Path file) throws Exception;
    }

    /**
     * Writes {@code bytes} to a scratch file named {@code fileName} and loads it: it may succeed or throw
     * {@code documented}, whose message must name the file; anything else fails the fuzz test.
     */
    private static void loadFile(String fileName, byte[] bytes, Class<? extends Exception> documented, Loader loader)
            throws Exception {
        Path dir = Files.createTempDirectory("peft4j-fuzz-");
        Path file = dir.resolve(fileName);
        try {
            Files.write(file, bytes);
            loader.load(file);
        } catch (Exception e) {
            if (!documented.isInstance(e)) {
                throw e;
            }
            if (e.getMessage() == null || !e.getMessage().contains(fileName)) {
                throw new AssertionError("error without the file's name: " + e.getMessage(), e);
            }
        } finally {
            org.peft4j.io.AtomicFiles.deleteRecursively(dir);
        }
    }

    /** Header length, JSON, offsets overlapping or past the end, dtype against byte count, shape overflow. */
    @FuzzTest(maxDuration = "30m", maxExecutions = 1_000_000)
    void safetensors(byte[] bytes) throws Exception {
        loadFile("model.safetensors", bytes, org.peft4j.io.SafetensorsException.class, file -> {
            try (SafetensorsReader r = SafetensorsReader.open(file)) {
                for (String name : r.names()) {
                    r.rawBytes(name);
                    switch (r.info(name).dtype()) {
                        case F32, F16, BF16 -> r.readFloats(name);
                        case I64 -> r.readLongs(name);
                        default -> { }
                    }
                }
            }
        });
    }

    /** A model folder's config.json (ViT). */
    @FuzzTest(maxDuration = "30m", maxExecutions = 1_000_000)
    void vitConfig(byte[] bytes) throws Exception {
        loadFile("config.json", bytes, IOException.class, file -> VitConfig.fromDirectory(file.getParent()));
    }

    /** A SAM folder's config.json. */
    @FuzzTest(maxDuration = "30m", maxExecutions = 1_000_000)
    void samConfig(byte[] bytes) throws Exception {
        loadFile("config.json", bytes, IOException.class, file -> SamCheckpoint.config(file.getParent()));
    }

    /** adapter_config.json, as PeftModel reads it (JSON first, then the tuner's fields). */
    @FuzzTest(maxDuration = "30m", maxExecutions = 1_000_000)
    void adapterConfig(byte[] bytes) {
        com.fasterxml.jackson.databind.JsonNode json;
        try {
            json = Json.MAPPER.readTree(bytes);
        } catch (IOException e) {
            return; // not JSON: the loader reports it with the file name
        }
        if (json == null || !json.isObject()) {
            return;
        }
        try {
            PeftConfigs.fromJson(json);
        } catch (IllegalArgumentException e) {
            // the documented error; PeftModel prefixes the file name
        }
    }

    /** PNG, JPEG, BMP, GIF bytes, bounded before the pixels are allocated. */
    @FuzzTest(maxDuration = "30m", maxExecutions = 1_000_000)
    void image(byte[] bytes) {
        try {
            ImageFolder.decode(bytes, "fuzz.png");
        } catch (DataException e) {
            if (!e.getMessage().contains("fuzz.png")) {
                throw new AssertionError("error without the image's name: " + e.getMessage(), e);
            }
        }
    }

    /** IDX files (Fashion-MNIST's format), plain or gzip. */
    @FuzzTest(maxDuration = "30m", maxExecutions = 1_000_000)
    void idx(byte[] bytes) throws Exception {
        loadFile("train-images-idx3-ubyte", bytes, DataException.class, org.peft4j.data.FuzzAccess::readIdxImages);
    }
}
