package org.peft4j.models.sam;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.peft4j.ManagedTest;
import org.peft4j.io.Json;
import org.peft4j.io.SafetensorsReader;
import org.peft4j.nn.ForwardContext;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.peft4j.Fixtures.assertClose;

/**
 * SAM's image encoder against the official implementation's outputs (fixtures/sam-tiny, see its
 * README): the patch grid, every block (windowed with padding, and global) and the embedding.
 */
class SamImageEncoderTest extends ManagedTest {

    static final float TOL = 1e-4f;

    private SamImageEncoder encoder;
    private NDArray images;

    static Path fixture(String file) {
        try {
            return Path.of(SamImageEncoderTest.class.getResource("/fixtures/sam-tiny/" + file).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static float[] expected(String name) throws IOException {
        try (SafetensorsReader r = SafetensorsReader.open(fixture("outputs.safetensors"))) {
            return r.readFloats(name);
        }
    }

    @BeforeEach
    void load() throws IOException {
        JsonNode config = Json.MAPPER.readTree(fixture("config.json").toFile());
        encoder = new SamImageEncoder(SamEncoderConfig.fromJson(config.get("image_encoder")));
        encoder.initialize(manager);
        try (SafetensorsReader r = SafetensorsReader.open(fixture("weights.safetensors"))) {
            for (Map.Entry<String, Parameter> e : encoder.namedParameters().entrySet()) {
                e.getValue().getArray().set(r.readFloats("image_encoder." + e.getKey()));
            }
        }
        try (SafetensorsReader r = SafetensorsReader.open(fixture("inputs.safetensors"))) {
            images = r.readNDArray("images", manager);
        }
    }

    @Test
    void everyParameterHasItsOfficialName() throws IOException {
        java.util.Set<String> official = new java.util.TreeSet<>();
        try (SafetensorsReader r = SafetensorsReader.open(fixture("weights.safetensors"))) {
            r.names().stream().filter(n -> n.startsWith("image_encoder.")).forEach(n -> official.add(n.substring(14)));
        }
        assertEquals(official, new java.util.TreeSet<>(encoder.namedParameters().keySet()));
    }

    @Test
    void patchGridBlocksAndEmbeddingMatchTheOfficialModel() throws IOException {
        assertClose(expected("image_encoder.patch_embed"), encoder.patches(images, ForwardContext.INFERENCE).toFloatArray(), TOL);
        for (int i = 0; i < 4; i++) {
            assertClose(expected("image_encoder.blocks." + i),
                    encoder.tokens(images, i, ForwardContext.INFERENCE).toFloatArray(), TOL);
        }
        assertClose(expected("image_embeddings"), encoder.forward(images, ForwardContext.INFERENCE).toFloatArray(), TOL);
    }
}
