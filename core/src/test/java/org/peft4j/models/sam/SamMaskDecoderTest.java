package org.peft4j.models.sam;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.peft4j.ManagedTest;
import org.peft4j.io.SafetensorsReader;
import org.peft4j.nn.ForwardContext;

import java.io.IOException;
import java.util.Map;

import static org.peft4j.Fixtures.assertClose;
import static org.peft4j.models.sam.SamImageEncoderTest.TOL;
import static org.peft4j.models.sam.SamImageEncoderTest.expected;
import static org.peft4j.models.sam.SamImageEncoderTest.fixture;

/** SAM's mask decoder against the official outputs, fed the official image and prompt embeddings: every intermediate. */
class SamMaskDecoderTest extends ManagedTest {

    private SamMaskDecoder decoder;

    @BeforeEach
    void load() throws IOException {
        decoder = new SamMaskDecoder(new SamMaskDecoder.Config(32, 3, 2, 2, 64, 2, 3, 32));
        decoder.initialize(manager);
        try (SafetensorsReader r = SafetensorsReader.open(fixture("weights.safetensors"))) {
            for (Map.Entry<String, Parameter> e : decoder.namedParameters().entrySet()) {
                e.getValue().getArray().set(r.readFloats("mask_decoder." + e.getKey()));
            }
        }
    }

    private NDArray out(String name) throws IOException {
        try (SafetensorsReader r = SafetensorsReader.open(fixture("outputs.safetensors"))) {
            return r.readNDArray(name, manager);
        }
    }

    @ParameterizedTest
    @CsvSource({"c0_points,0", "c1_box,1", "c2_points_mask,0", "c3_point_box_x2,1"})
    void masksScoresAndIntermediates(String c, int image) throws IOException {
        NDArray embedding = out("image_embeddings").get(image + ":" + (image + 1));
        NDArray pe = out("dense_pe");
        NDArray sparse = out(c + ".sparse_embeddings");
        NDArray dense = out(c + ".dense_embeddings");
        for (boolean multi : new boolean[] {true, false}) {
            SamMaskDecoder.Output o = decoder.predict(embedding, pe, sparse, dense, multi, ForwardContext.INFERENCE);
            String mode = multi ? ".multi" : ".single";
            assertClose(expected(c + mode + ".low_res_masks"), o.lowResMasks().toFloatArray(), TOL);
            assertClose(expected(c + mode + ".iou_predictions"), o.iouPredictions().toFloatArray(), TOL);
            assertClose(expected(c + ".decoder.tokens_out"), o.tokensOut().toFloatArray(), TOL);
            assertClose(expected(c + ".decoder.hyper_in"), o.hyperIn().toFloatArray(), TOL);
            assertClose(expected(c + ".decoder.iou_pred_all"), o.iouAll().toFloatArray(), TOL);
            for (int l = 0; l < 2; l++) {
                assertClose(expected(c + ".decoder.transformer.layers." + l + ".queries"),
                        o.layerQueries().get(l).toFloatArray(), TOL);
            }
            if (c.equals("c0_points")) {
                assertClose(expected(c + ".decoder.image_tokens_out"), o.imageTokensOut().toFloatArray(), TOL);
                assertClose(expected(c + ".decoder.upscaled_embedding"), o.upscaled().toFloatArray(), TOL);
                for (int l = 0; l < 2; l++) {
                    assertClose(expected(c + ".decoder.transformer.layers." + l + ".keys"),
                            o.layerKeys().get(l).toFloatArray(), TOL);
                }
            }
        }
    }
}
