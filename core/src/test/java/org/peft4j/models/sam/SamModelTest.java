package org.peft4j.models.sam;

import ai.djl.ndarray.NDArray;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.ManagedTest;
import org.peft4j.io.SafetensorsReader;
import org.peft4j.io.SafetensorsWriter;
import org.peft4j.nn.ForwardContext;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.peft4j.Fixtures.assertClose;
import static org.peft4j.models.sam.SamImageEncoderTest.TOL;
import static org.peft4j.models.sam.SamImageEncoderTest.expected;
import static org.peft4j.models.sam.SamImageEncoderTest.fixture;

/** The whole SAM from a model folder: the official pipeline end to end, pre- and post-processing, both namings, bad checkpoints. */
class SamModelTest extends ManagedTest {

    @TempDir
    Path tmp;
    private Path folder;

    @BeforeEach
    void folder() throws IOException {
        folder = tmp.resolve("sam-tiny");
        Files.createDirectories(folder);
        Files.copy(fixture("config.json"), folder.resolve(SamCheckpoint.CONFIG_FILE));
        Files.copy(fixture("weights.safetensors"), folder.resolve(SamCheckpoint.WEIGHTS_FILE));
    }

    private NDArray input(String name) throws IOException {
        try (SafetensorsReader r = SafetensorsReader.open(fixture("inputs.safetensors"))) {
            return r.readNDArray(name, manager);
        }
    }

    private void checkPipeline(SamModel sam) throws IOException {
        NDArray embeddings = sam.forward(input("images"), ForwardContext.INFERENCE);
        assertClose(expected("image_embeddings"), embeddings.toFloatArray(), TOL);
        String[] cases = {"c0_points", "c1_box", "c2_points_mask"};
        int[] images = {0, 1, 0};
        for (int i = 0; i < cases.length; i++) {
            SamPromptEncoder.Prompts p = SamPromptEncoderTest.prompts(cases[i], manager);
            for (boolean multi : new boolean[] {true, false}) {
                SamModel.Masks m = sam.segment(embeddings.get(images[i] + ":" + (images[i] + 1)), p, multi, 64, 64, 64, 64,
                        ForwardContext.INFERENCE);
                String mode = multi ? ".multi" : ".single";
                assertClose(expected(cases[i] + mode + ".masks"), m.masks().toFloatArray(), TOL);
                assertClose(expected(cases[i] + mode + ".iou_predictions"), m.iou().toFloatArray(), TOL);
            }
        }
    }

    @Test
    void theOfficialPipelineFromAModelFolder() throws IOException {
        checkPipeline(SamCheckpoint.load(folder, manager));
    }

    @Test
    void postprocessingUpscalesCropsAndResizesWithoutAntialiasing() throws IOException {
        SamModel sam = SamCheckpoint.load(folder, manager);
        NDArray lowRes;
        try (SafetensorsReader r = SafetensorsReader.open(fixture("outputs.safetensors"))) {
            lowRes = r.readNDArray("c0_points.single.low_res_masks", manager);
        }
        assertClose(expected("c0_points.single.masks_in48x64_orig60x80"),
                sam.postprocess(lowRes, 48, 64, 60, 80).toFloatArray(), TOL);
        assertClose(expected("c0_points.single.masks_in48x64_orig30x40"),
                sam.postprocess(lowRes, 48, 64, 30, 40).toFloatArray(), TOL);
        assertClose(expected("preprocess.output"), sam.preprocess(input("preprocess.raw_image")).toFloatArray(), TOL);
    }

    @Test
    void huggingFaceNamesLoadToTheSameModel() throws IOException {
        SamModel sam = SamCheckpoint.load(folder, manager);
        Path hf = tmp.resolve("hf");
        SamCheckpoint.save(sam, hf, SamCheckpoint.Naming.HUGGING_FACE);
        try (SafetensorsReader r = SafetensorsReader.open(hf.resolve(SamCheckpoint.WEIGHTS_FILE))) {
            assertTrue(r.contains("vision_encoder.layers.0.layer_norm1.weight"));
            assertTrue(r.contains("vision_encoder.neck.conv1.weight"));
            assertTrue(r.contains("mask_decoder.upscale_conv1.weight"));
            assertTrue(r.contains("mask_decoder.iou_prediction_head.proj_in.weight"));
            assertTrue(r.contains("mask_decoder.output_hypernetworks_mlps.2.layers.0.weight"));
            assertTrue(r.contains("mask_decoder.transformer.layer_norm_final_attn.weight"));
            assertTrue(r.contains("prompt_encoder.mask_embed.conv3.weight"));
            assertTrue(r.contains("prompt_encoder.point_embed.1.weight"));
        }
        checkPipeline(SamCheckpoint.load(hf, manager));
    }

    @Test
    void missingOrMisshapedTensorsAreNamed() throws IOException {
        Path broken = tmp.resolve("broken");
        Files.createDirectories(broken);
        Files.copy(folder.resolve(SamCheckpoint.CONFIG_FILE), broken.resolve(SamCheckpoint.CONFIG_FILE));
        try (SafetensorsReader r = SafetensorsReader.open(folder.resolve(SamCheckpoint.WEIGHTS_FILE))) {
            SafetensorsWriter w = new SafetensorsWriter();
            for (String n : r.names()) {
                if (n.equals("mask_decoder.iou_token.weight")) {
                    continue;
                }
                float[] v = r.readFloats(n);
                w.add(n, v, n.equals("image_encoder.pos_embed") ? new long[] {1, 64, 64} : r.info(n).shape());
            }
            w.write(broken.resolve(SamCheckpoint.WEIGHTS_FILE));
        }
        IOException e = assertThrows(IOException.class, () -> SamCheckpoint.load(broken, manager));
        assertTrue(e.getMessage().contains("image_encoder.pos_embed"), e.getMessage());
        assertEquals(true, e.getMessage().contains("shape"), e.getMessage());
    }
}
