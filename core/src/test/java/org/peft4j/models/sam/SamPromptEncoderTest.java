package org.peft4j.models.sam;

import ai.djl.nn.Parameter;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.peft4j.ManagedTest;
import org.peft4j.io.SafetensorsReader;
import org.peft4j.nn.ForwardContext;

import java.io.IOException;
import java.util.Map;

import static org.peft4j.Fixtures.assertClose;
import static org.peft4j.models.sam.SamImageEncoderTest.TOL;
import static org.peft4j.models.sam.SamImageEncoderTest.expected;
import static org.peft4j.models.sam.SamImageEncoderTest.fixture;

/** SAM's prompt encoder against the official outputs: dense PE, and every case's sparse and dense embeddings. */
class SamPromptEncoderTest extends ManagedTest {

    private SamPromptEncoder encoder;

    @BeforeEach
    void load() throws IOException {
        encoder = new SamPromptEncoder(new SamPromptEncoder.Config(32, 8, 8, 64, 64, 16));
        encoder.initialize(manager);
        try (SafetensorsReader r = SafetensorsReader.open(fixture("weights.safetensors"))) {
            for (Map.Entry<String, Parameter> e : encoder.namedParameters().entrySet()) {
                e.getValue().getArray().set(r.readFloats("prompt_encoder." + e.getKey()));
            }
        }
    }

    static SamPromptEncoder.Prompts prompts(String c, ai.djl.ndarray.NDManager manager) throws IOException {
        try (SafetensorsReader r = SafetensorsReader.open(fixture("inputs.safetensors"))) {
            return new SamPromptEncoder.Prompts(
                    r.contains(c + ".point_coords") ? r.readNDArray(c + ".point_coords", manager) : null,
                    r.contains(c + ".point_labels") ? r.readNDArray(c + ".point_labels", manager) : null,
                    r.contains(c + ".boxes") ? r.readNDArray(c + ".boxes", manager) : null,
                    r.contains(c + ".mask_inputs") ? r.readNDArray(c + ".mask_inputs", manager) : null);
        }
    }

    @Test
    void densePositionalEncoding() throws IOException {
        assertClose(expected("dense_pe"), encoder.densePositional(manager).toFloatArray(), TOL);
    }

    @ParameterizedTest
    @ValueSource(strings = {"c0_points", "c1_box", "c2_points_mask", "c3_point_box_x2"})
    void sparseAndDenseEmbeddings(String c) throws IOException {
        SamPromptEncoder.Prompts p = prompts(c, manager);
        assertClose(expected(c + ".sparse_embeddings"), encoder.sparse(p, manager).toFloatArray(), TOL);
        assertClose(expected(c + ".dense_embeddings"), encoder.dense(p, manager, ForwardContext.INFERENCE).toFloatArray(), TOL);
    }
}
