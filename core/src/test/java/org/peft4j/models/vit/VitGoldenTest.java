package org.peft4j.models.vit;

import org.peft4j.ManagedTest;
import ai.djl.ndarray.NDArray;
import org.junit.jupiter.api.Test;
import org.peft4j.Fixtures;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.peft4j.Fixtures.TOLERANCE;
import static org.peft4j.Fixtures.assertClose;

/** Logits equal torchvision's VisionTransformer on the same random weights, in both namings. */
class VitGoldenTest extends ManagedTest {



    private float[] logits(VitForImageClassification model, String input) throws IOException {
        NDArray x = Fixtures.input(input, manager);
        return model.forward(x, false).toFloatArray();
    }

    @Test
    void huggingFaceNamingMatchesTorchvision() throws IOException {
        VitForImageClassification model = VitCheckpoint.load(Fixtures.vitTiny("hf"), manager);
        assertEquals(VitNaming.HF, model.config().naming());
        assertEquals("classifier", model.headPath());
        assertClose(Fixtures.expected("logits"), logits(model, "pixel_values"), TOLERANCE);
    }

    @Test
    void timmNamingMatchesTorchvision() throws IOException {
        VitForImageClassification model = VitCheckpoint.load(Fixtures.vitTiny("timm"), manager);
        assertEquals(VitNaming.TIMM, model.config().naming());
        assertClose(Fixtures.expected("logits"), logits(model, "pixel_values"), TOLERANCE);
    }

    @Test
    void bf16CheckpointIsWidenedInJava(@org.junit.jupiter.api.io.TempDir Path tmp) throws IOException {
        Files.copy(Fixtures.vitTiny("timm/config.json"), tmp.resolve("config.json"));
        Files.copy(Fixtures.vitTiny("timm/model_bf16.safetensors"), tmp.resolve("model.safetensors"));
        VitForImageClassification model = VitCheckpoint.load(tmp, manager);
        assertClose(Fixtures.expected("logits_bf16"), logits(model, "pixel_values"), TOLERANCE);
    }

    @Test
    void positionEmbeddingsAreInterpolatedForAnotherImageSize() throws IOException {
        VitForImageClassification model = VitCheckpoint.load(Fixtures.vitTiny("hf"), manager,
                new VitCheckpoint.Options(null, 24));
        assertClose(Fixtures.expected("pos_embed_interp"),
                model.positionEmbedding().getArray().toFloatArray(), 1e-5f);
        assertClose(Fixtures.expected("logits_interp"), logits(model, "pixel_values_24"), TOLERANCE);
    }

    @Test
    void savedModelReloadsToTheSameLogits(@org.junit.jupiter.api.io.TempDir Path tmp) throws IOException {
        VitForImageClassification model = VitCheckpoint.load(Fixtures.vitTiny("timm"), manager);
        VitCheckpoint.save(model, tmp.resolve("saved"));
        VitForImageClassification again = VitCheckpoint.load(tmp.resolve("saved"), manager);
        assertClose(Fixtures.expected("logits"), logits(again, "pixel_values"), TOLERANCE);
    }
}
