package org.peft4j.models.vit;

import org.junit.jupiter.api.Test;
import org.peft4j.Fixtures;
import org.peft4j.io.SafetensorsReader;

import java.io.IOException;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.peft4j.Fixtures.assertClose;

/** Bicubic resizing of the position grid, as PyTorch's F.interpolate(bicubic, align_corners=False). */
class PositionEmbeddingsTest {

    private static final int DIM = 32;

    private static float[] fixtureEmbedding() throws IOException {
        try (SafetensorsReader r = SafetensorsReader.open(Fixtures.vitTiny("hf/model.safetensors"))) {
            return r.readFloats("vit.embeddings.position_embeddings");
        }
    }

    @Test
    void sameSizeIsTheIdentity() throws IOException {
        float[] embed = fixtureEmbedding();
        assertArrayEquals(embed, PositionEmbeddings.resize(embed, DIM, 4, 4));
    }

    @Test
    void matchesPytorchBicubicOnTheFixture() throws IOException {
        float[] resized = PositionEmbeddings.resize(fixtureEmbedding(), DIM, 4, 6);
        assertEquals((1 + 36) * DIM, resized.length);
        assertClose(Fixtures.expected("pos_embed_interp"), resized, 1e-5f);
    }

    @Test
    void classTokenRowIsKeptAsIs() throws IOException {
        float[] embed = fixtureEmbedding();
        for (int grid : new int[] {2, 3, 6, 9}) {
            float[] resized = PositionEmbeddings.resize(embed, DIM, 4, grid);
            assertArrayEquals(Arrays.copyOf(embed, DIM), Arrays.copyOf(resized, DIM), "grid " + grid);
        }
    }

    @Test
    void constantGridStaysConstantUpAndDown() {
        // The cubic taps sum to one, also where they are clamped at the border.
        float[] embed = new float[(1 + 25) * 3];
        Arrays.fill(embed, 0.75f);
        embed[0] = -1f;
        for (int grid : new int[] {3, 5, 8}) {
            float[] resized = PositionEmbeddings.resize(embed, 3, 5, grid);
            assertEquals(-1f, resized[0]);
            for (int i = 3; i < resized.length; i++) {
                assertEquals(0.75f, resized[i], 1e-6f, "grid " + grid + " index " + i);
            }
        }
    }

    @Test
    void channelsAreResizedIndependently() {
        // Resizing [c0, c1] together equals resizing each channel alone.
        Random random = new Random(4);
        int grid = 3;
        float[] both = new float[(1 + grid * grid) * 2];
        float[] first = new float[1 + grid * grid];
        for (int t = 0; t < 1 + grid * grid; t++) {
            both[2 * t] = first[t] = (float) random.nextGaussian();
            both[2 * t + 1] = (float) random.nextGaussian();
        }
        float[] together = PositionEmbeddings.resize(both, 2, grid, 5);
        float[] alone = PositionEmbeddings.resize(first, 1, grid, 5);
        for (int t = 0; t < alone.length; t++) {
            assertEquals(alone[t], together[2 * t], "token " + t);
        }
    }

    @Test
    void wrongLengthIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PositionEmbeddings.resize(new float[16 * DIM], DIM, 4, 6));
        assertTrue(e.getMessage().contains("position embedding"), e.getMessage());
    }
}
