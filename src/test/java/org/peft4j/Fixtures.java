package org.peft4j;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.peft4j.io.SafetensorsReader;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;

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
}
