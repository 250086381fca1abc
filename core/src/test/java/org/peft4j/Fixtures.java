package org.peft4j;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.peft4j.io.SafetensorsReader;
import org.peft4j.tuners.AdapterModel;
import org.peft4j.tuners.Injection;
import org.peft4j.tuners.lora.LoraLayer;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The golden files under src/test/resources/fixtures (made by tools/make_vit_fixtures.py). */
public final class Fixtures {

    /** Absolute tolerance for logits against the torchvision reference (logits are O(1)). */
    public static final float TOLERANCE = 1e-4f;

    private Fixtures() {}

    public static Path vitTiny(String sub) {
        try {
            return Path.of(Fixtures.class.getResource("/fixtures/vit-tiny").toURI()).resolve(sub);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The golden fixture's tiny SAM (official naming) as a model folder at {@code dir}. */
    public static Path tinySam(Path dir) throws java.io.IOException {
        java.nio.file.Files.createDirectories(dir);
        try {
            Path fixture = Path.of(Fixtures.class.getResource("/fixtures/sam-tiny").toURI());
            java.nio.file.Files.copy(fixture.resolve("config.json"), dir.resolve("config.json"));
            java.nio.file.Files.copy(fixture.resolve("weights.safetensors"), dir.resolve("model.safetensors"));
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        return dir;
    }

    /** Adapter {@code name}'s LoRA layers by module path. */
    public static Map<String, LoraLayer> loraLayers(AdapterModel peft, String name) {
        Map<String, LoraLayer> out = new LinkedHashMap<>();
        for (Injection.Placement<?> pl : peft.placements(name)) {
            if (pl.hook() instanceof LoraLayer l) {
                out.put(pl.path(), l);
            }
        }
        return out;
    }

    /** What a LoRA layer adds to the output for input {@code x}: {@code x ΔWᵀ}. */
    public static NDArray loraDelta(LoraLayer l, NDArray x) {
        return ai.djl.nn.core.Linear.linear(x, l.deltaWeight()).singletonOrThrow();
    }

    public static NDArray input(String name, NDManager manager) throws IOException {
        try (SafetensorsReader r = SafetensorsReader.open(vitTiny("inputs.safetensors"))) {
            return r.readNDArray(name, manager);
        }
    }

    public static float[] expected(String name) throws IOException {
        try (SafetensorsReader r = SafetensorsReader.open(vitTiny("expected.safetensors"))) {
            return r.readFloats(name);
        }
    }

    /** The largest absolute difference between two arrays of the same length. */
    public static float maxAbsDiff(float[] a, float[] b) {
        float m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    public static void assertClose(float[] expected, float[] actual, float tol) {
        assertEquals(expected.length, actual.length, "length");
        float worst = 0;
        for (int i = 0; i < expected.length; i++) {
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        }
        if (worst > tol) {
            assertArrayEquals(expected, actual, tol, "max abs diff " + worst);
        }
    }

    /** A copy of a model or adapter folder's {@code files} in {@code to} (created), to break or add files to. */
    public static Path copyFiles(Path from, Path to, String... files) throws IOException {
        Files.createDirectories(to);
        for (String f : files) {
            Files.copy(from.resolve(f), to.resolve(f));
        }
        return to;
    }
}
