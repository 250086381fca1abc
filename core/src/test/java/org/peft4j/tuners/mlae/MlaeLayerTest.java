package org.peft4j.tuners.mlae;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.peft4j.ManagedTest;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.LinearLayer;
import org.peft4j.tuners.TargetModules;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.peft4j.Fixtures.assertClose;

/**
 * MLAE's math on hand-computed cases. With A = B = I and an all-ones input, the adapter's output
 * row is exactly the coefficient vector m̃ of that call, so masks and scaling can be read off.
 */
class MlaeLayerTest extends ManagedTest {

    private static final int R = 16;
    private static final TargetModules ANY = TargetModules.regex(".*");

    @BeforeEach
    void seed() {
        Engine.getInstance().setRandomSeed(23);
    }

    private MlaeLayer identityExperts(MlaeConfig config, double rate) {
        LinearLayer host = new LinearLayer(R, R, true);
        host.initialize(manager);
        MlaeLayer mlae = new MlaeLayer(host, config, rate);
        mlae.initialize(manager);
        float[] eye = new float[R * R];
        for (int i = 0; i < R; i++) {
            eye[i * R + i] = 1f;
        }
        mlae.parameters().get("lora_A.weight").getArray().set(eye);
        mlae.parameters().get("lora_B.weight").getArray().set(eye);
        float[] lambda = new float[R];
        for (int i = 0; i < R; i++) {
            lambda[i] = i + 1;
        }
        mlae.parameters().get("mlae_lambda").getArray().set(lambda);
        return mlae;
    }

    /** The adapter's output for a batch of 5 all-ones rows: [5, R]. */
    private float[] out(MlaeLayer mlae, boolean training) {
        NDArray x = manager.ones(new Shape(5, R));
        NDArray zeros = manager.zeros(new Shape(5, R));
        return mlae.adaptOutput(x, zeros, zeros, ForwardContext.of(training)).toFloatArray();
    }

    private static float[] row(float[] out, int i) {
        return Arrays.copyOfRange(out, i * R, (i + 1) * R);
    }

    @Test
    void lambdaStartsAtAlphaWithoutTheAlphaOverRFactor() {
        LinearLayer host = new LinearLayer(8, 8, true);
        MlaeLayer mlae = new MlaeLayer(host, MlaeConfig.stochastic(4, 3.5, 0.5, ANY), 0.5);
        mlae.initialize(manager);
        assertArrayEquals(new float[] {3.5f, 3.5f, 3.5f, 3.5f}, mlae.parameters().get("mlae_lambda").getArray().toFloatArray());
        assertEquals(new Shape(4, 8), mlae.parameters().get("lora_A.weight").getShape());
        assertEquals(new Shape(8, 4), mlae.parameters().get("lora_B.weight").getShape());
        assertEquals(0f, mlae.deltaWeight().abs().max().getFloat(), "B starts at zero");
    }

    @Test
    void evalUsesLambdaWithoutMaskAndIsDeterministic() {
        MlaeLayer mlae = identityExperts(MlaeConfig.stochastic(R, 1, 0.5, ANY), 0.5);
        float[] a = out(mlae, false);
        float[] b = out(mlae, false);
        assertArrayEquals(a, b);
        for (int i = 0; i < 5; i++) {
            for (int k = 0; k < R; k++) {
                assertEquals(k + 1, row(a, i)[k], 1e-6, "eval coefficient of expert " + k);
            }
        }
    }

    @Test
    void oneMaskPerCallSharedByTheBatchFreshEachCallSurvivorsScaled() {
        double p = 0.5;
        MlaeLayer mlae = identityExperts(MlaeConfig.stochastic(R, 1, p, ANY), p);
        float[] first = out(mlae, true);
        for (int i = 1; i < 5; i++) {
            assertArrayEquals(row(first, 0), row(first, i), "every example of the batch sees the same mask");
        }
        int kept = 0;
        int calls = 200;
        boolean differs = false;
        for (int c = 0; c < calls; c++) {
            float[] o = row(out(mlae, true), 0);
            differs |= !Arrays.equals(o, row(first, 0));
            for (int k = 0; k < R; k++) {
                if (o[k] != 0f) {
                    kept++;
                    assertEquals((k + 1) / (1 - p), o[k], 1e-5, "a survivor is scaled by 1/(1-p)");
                }
            }
        }
        assertTrue(differs, "a fresh mask on every call");
        double keptRate = kept / (double) (calls * R);
        // 3200 Bernoulli(0.5) draws: outside [0.45, 0.55] with probability < 1e-8.
        assertTrue(keptRate > 0.45 && keptRate < 0.55, "kept " + keptRate);
    }

    @Test
    void fixedMaskingKeepsTheChosenExpertsOffEverywhereWithoutScaling() {
        MlaeConfig fixed = new MlaeConfig(R, 1, 0, MlaeConfig.Masking.FIXED, List.of(1, 3), MlaeConfig.Schedule.UNIFORM,
                0, ANY, null);
        MlaeLayer mlae = identityExperts(fixed, 0);
        for (boolean training : new boolean[] {true, false}) {
            float[] o = row(out(mlae, training), 0);
            for (int k = 0; k < R; k++) {
                assertEquals(k == 1 || k == 3 ? 0f : k + 1, o[k], 1e-6, "expert " + k + (training ? " training" : " eval"));
            }
        }
        float[] w = mlae.deltaWeight().toFloatArray();
        assertEquals(0f, w[1 * R + 1], "the merged form leaves fixed experts out too");
        assertEquals(3f, w[2 * R + 2], 1e-6);
    }

    @Test
    void mixedMaskingDropsAtRandomAmongTheExpertsNotFixedOff() {
        MlaeConfig mixed = new MlaeConfig(R, 1, 0.5, MlaeConfig.Masking.MIXED, List.of(0), MlaeConfig.Schedule.UNIFORM,
                0, ANY, null);
        MlaeLayer mlae = identityExperts(mixed, 0.5);
        for (int c = 0; c < 50; c++) {
            float[] o = row(out(mlae, true), 0);
            assertEquals(0f, o[0]);
            for (int k = 1; k < R; k++) {
                assertTrue(o[k] == 0f || Math.abs(o[k] - 2 * (k + 1)) < 1e-5, "expert " + k + ": " + o[k]);
            }
        }
        assertEquals(0f, row(out(mlae, false), 0)[0]);
        assertEquals(2f, row(out(mlae, false), 0)[1], 1e-6);
    }

    @Test
    void mergedEqualsUnmergedInEval() {
        LinearLayer host = new LinearLayer(6, 5, true);
        host.initialize(manager);
        MlaeLayer mlae = new MlaeLayer(host, MlaeConfig.stochastic(3, 2, 0.5, ANY), 0.5);
        mlae.initialize(manager);
        mlae.parameters().get("lora_B.weight").getArray().set(manager.randomNormal(new Shape(5, 3)).toFloatArray());
        mlae.parameters().get("mlae_lambda").getArray().set(new float[] {0.5f, -1.5f, 2f});
        host.hooks().add("m", mlae);
        host.hooks().setActive(List.of("m"));
        NDArray x = manager.randomNormal(new Shape(4, 6));
        float[] unmerged = host.forward(x, false).toFloatArray();
        float[] w0 = host.weight().getArray().toFloatArray();
        host.hooks().merge("m", true);
        assertClose(unmerged, host.forward(x, false).toFloatArray(), 1e-5f);
        assertFalse(Arrays.equals(w0, host.weight().getArray().toFloatArray()));
        host.hooks().unmergeAll();
        assertClose(w0, host.weight().getArray().toFloatArray(), 1e-6f);
    }

    @Test
    void lambdaReceivesGradientsOnlyForTheExpertsThisCallKept() {
        MlaeLayer mlae = identityExperts(MlaeConfig.stochastic(R, 1, 0.5, ANY), 0.5);
        NDArray lambda = mlae.parameters().get("mlae_lambda").getArray();
        float[] o;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray x = manager.ones(new Shape(5, R));
            NDArray zeros = manager.zeros(new Shape(5, R));
            NDArray y = mlae.adaptOutput(x, zeros, zeros, ForwardContext.TRAINING);
            o = row(y.toFloatArray(), 0);
            gc.backward(y.sum());
        }
        float[] g = lambda.getGradient().toFloatArray();
        for (int k = 0; k < R; k++) {
            // d(sum)/dλ_k = 5 rows × mask_k / (1 − p)
            assertEquals(o[k] == 0f ? 0f : 10f, g[k], 1e-5, "expert " + k);
        }
        long dropped = java.util.stream.IntStream.range(0, R).filter(k -> o[k] == 0f).count();
        assertTrue(dropped > 0 && dropped < R, "this call both kept and dropped experts: " + dropped);
    }

    @Test
    void schedulesShapeTheRateOverTheBlocks() {
        double p = 0.4;
        double[] t = {0, 0.25, 0.5, 0.75, 1};
        for (int l = 0; l < 5; l++) {
            assertEquals(p, MlaeConfig.Schedule.UNIFORM.rate(p, l, 5), 1e-12);
            assertEquals(p * t[l], MlaeConfig.Schedule.INCREASING.rate(p, l, 5), 1e-12);
            assertEquals(p * (1 - t[l]), MlaeConfig.Schedule.DECREASING.rate(p, l, 5), 1e-12);
            assertEquals(p * Math.abs(2 * t[l] - 1), MlaeConfig.Schedule.HOURGLASS.rate(p, l, 5), 1e-12);
            assertEquals(p * (1 - Math.abs(2 * t[l] - 1)), MlaeConfig.Schedule.PROTRUDING.rate(p, l, 5), 1e-12);
        }
        assertEquals(0.4, MlaeConfig.Schedule.HOURGLASS.rate(p, 0, 5), 1e-12);
        assertEquals(0.0, MlaeConfig.Schedule.HOURGLASS.rate(p, 2, 5), 1e-12);
        assertEquals(0.4, MlaeConfig.Schedule.PROTRUDING.rate(p, 2, 5), 1e-12);
    }

    @Test
    void incompatibleMaskingOptionsAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new MlaeConfig(4, 1, 0,
                MlaeConfig.Masking.FIXED, null, MlaeConfig.Schedule.UNIFORM, 0, ANY, null));
        assertTrue(e.getMessage().contains("fixed_experts"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new MlaeConfig(4, 1, 0.5, MlaeConfig.Masking.STOCHASTIC,
                List.of(1), MlaeConfig.Schedule.UNIFORM, 0, ANY, null));
        assertThrows(IllegalArgumentException.class, () -> new MlaeConfig(4, 1, 0.5, MlaeConfig.Masking.FIXED,
                List.of(1), MlaeConfig.Schedule.UNIFORM, 0, ANY, null));
        assertThrows(IllegalArgumentException.class, () -> new MlaeConfig(4, 1, 0, MlaeConfig.Masking.FIXED,
                List.of(0, 1, 2, 3), MlaeConfig.Schedule.UNIFORM, 0, ANY, null), "all experts off");
        assertThrows(IllegalArgumentException.class, () -> new MlaeConfig(4, 1, 0, MlaeConfig.Masking.FIXED,
                List.of(4), MlaeConfig.Schedule.UNIFORM, 0, ANY, null), "no expert 4");
        assertThrows(IllegalArgumentException.class, () -> MlaeConfig.Schedule.parse("zigzag"));
    }
}
