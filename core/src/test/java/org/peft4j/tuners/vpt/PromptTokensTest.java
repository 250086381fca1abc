package org.peft4j.tuners.vpt;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.peft4j.ManagedTest;
import org.peft4j.nn.BlockHooks;
import org.peft4j.nn.ForwardContext;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where the prompt tokens go: after the class token, inserted once, then replaced block by block. */
class PromptTokensTest extends ManagedTest {

    private static final int D = 4;
    private static final int P = 2;

    private PromptTokens prompt(boolean insert, float value) {
        BlockHooks block = new BlockHooks(0, D, 1, 1, 48);
        PromptTokens t = new PromptTokens(block, new VptConfig(P, true, 0, null, null), insert);
        t.initialize(manager);
        float[] v = new float[P * D];
        Arrays.fill(v, value);
        t.parameters().get("vpt_prompt").getArray().set(v);
        return t;
    }

    /** Token i of example b holds 100·b + i in every channel. */
    private NDArray sequence(int batch, int n) {
        float[] v = new float[batch * n * D];
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < n; i++) {
                for (int c = 0; c < D; c++) {
                    v[(b * n + i) * D + c] = 100 * b + i;
                }
            }
        }
        return manager.create(v, new Shape(batch, n, D));
    }

    private static float token(float[] seq, int n, int b, int i) {
        return seq[(b * n + i) * D];
    }

    @Test
    void insertsAfterTheClassTokenThenReplacesKeepingTheLength() {
        NDArray x = sequence(2, 5);
        NDArray shallow = prompt(true, -1f).apply(x, ForwardContext.INFERENCE);
        assertEquals(new Shape(2, 7, D), shallow.getShape());
        float[] s = shallow.toFloatArray();
        for (int b = 0; b < 2; b++) {
            assertEquals(100 * b, token(s, 7, b, 0), "class token first");
            assertEquals(-1f, token(s, 7, b, 1));
            assertEquals(-1f, token(s, 7, b, 2));
            for (int i = 1; i < 5; i++) {
                assertEquals(100 * b + i, token(s, 7, b, i + P), "patch tokens follow");
            }
        }
        NDArray deep = prompt(false, -7f).apply(shallow, ForwardContext.INFERENCE);
        assertEquals(new Shape(2, 7, D), deep.getShape(), "a deep prompt replaces, the length stays");
        float[] d = deep.toFloatArray();
        assertEquals(-7f, token(d, 7, 1, 1));
        assertEquals(-7f, token(d, 7, 1, 2));
        assertEquals(102f, token(d, 7, 1, 4), "patch 2 of example 1, untouched");
    }

    @Test
    void initialisationFollowsXaviersBoundWithTheTokenFanIn() {
        BlockHooks block = new BlockHooks(0, 64, 4, 1, 3 * 16 * 16);
        PromptTokens t = new PromptTokens(block, new VptConfig(50, false, 0, null, null), true);
        t.initialize(manager);
        float bound = (float) Math.sqrt(6.0 / (3 * 16 * 16 + 64));
        float max = t.parameters().get("vpt_prompt").getArray().abs().max().getFloat();
        assertTrue(max <= bound && max > 0.9 * bound, "max " + max + " vs bound " + bound);
        assertArrayEquals(new long[] {50, 64}, t.parameters().get("vpt_prompt").getShape().getShape());
    }
}
