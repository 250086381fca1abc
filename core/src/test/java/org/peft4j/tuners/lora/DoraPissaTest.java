package org.peft4j.tuners.lora;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.SingularOps_DDRM;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.peft4j.ManagedTest;
import org.peft4j.nn.LinearLayer;

import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.peft4j.Fixtures.assertClose;

/** DoRA and PiSSA against plain double-precision computations of their definitions. */
class DoraPissaTest extends ManagedTest {

    private final Random random = new Random(5);

    @BeforeEach
    void seed() {
        Engine.getInstance().setRandomSeed(29);
    }

    private float[] gaussian(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }

    private LinearLayer host(int in, int out) {
        LinearLayer layer = new LinearLayer(in, out, true);
        layer.initialize(manager);
        return layer;
    }

    private static LoraLayer attach(LinearLayer host, LoraLayer hook) {
        host.hooks().add("a", hook);
        host.hooks().setActive(List.of("a"));
        return hook;
    }

    /** W + s·B·A in doubles, [out][in]. */
    private static double[][] adapted(float[] w, float[] a, float[] b, int in, int out, int r, double s) {
        double[][] m = new double[out][in];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                double acc = 0;
                for (int k = 0; k < r; k++) {
                    acc += (double) b[o * r + k] * a[k * in + i];
                }
                m[o][i] = w[o * in + i] + s * acc;
            }
        }
        return m;
    }

    @Test
    void doraIsMagnitudeTimesTheNormalisedAdaptedWeight() {
        int in = 5;
        int out = 4;
        int r = 2;
        double s = 1.5;
        LinearLayer layer = host(in, out);
        LoraLayer dora = attach(layer, new LoraLayer(layer, r, s, 0, null, LoraConfig.Init.RANDOM, true));
        dora.initialize(manager);
        Map<String, ai.djl.nn.Parameter> p = dora.parameters();
        assertEquals(List.of("lora_A.weight", "lora_B.weight", "lora_magnitude_vector"), List.copyOf(p.keySet()),
                "PEFT's key for the magnitude");
        float[] w = layer.weight().getArray().toFloatArray();
        float[] bias = layer.bias().getArray().toFloatArray();
        float[] a = p.get("lora_A.weight").getArray().toFloatArray();
        float[] b = p.get("lora_B.weight").getArray().toFloatArray();
        double[][] adapted = adapted(w, a, b, in, out, r, s);
        double[] norms = new double[out];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                norms[o] += adapted[o][i] * adapted[o][i];
            }
            norms[o] = Math.sqrt(norms[o]);
        }
        float[] m = p.get("lora_magnitude_vector").getArray().toFloatArray();
        for (int o = 0; o < out; o++) {
            assertEquals(norms[o], m[o], 1e-5, "m starts at ‖W + s·B·A‖ of row " + o);
        }
        float[] m2 = {0.5f, 2f, 1.25f, 3f};
        p.get("lora_magnitude_vector").getArray().set(m2);

        int n = 3;
        float[] x = gaussian(n * in);
        float[] expected = new float[n * out];
        for (int row = 0; row < n; row++) {
            for (int o = 0; o < out; o++) {
                double acc = 0;
                for (int i = 0; i < in; i++) {
                    acc += adapted[o][i] * x[row * in + i];
                }
                expected[row * out + o] = (float) (m2[o] / norms[o] * acc + bias[o]);
            }
        }
        NDArray input = manager.create(x, new Shape(n, in));
        assertClose(expected, layer.forward(input, false).toFloatArray(), 1e-5f);

        layer.hooks().merge("a", true);
        float[] merged = layer.weight().getArray().toFloatArray();
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                assertEquals(m2[o] / norms[o] * adapted[o][i], merged[o * in + i], 1e-5, "W' = m/‖W+ΔW‖ · (W+ΔW)");
            }
        }
        assertClose(expected, layer.forward(input, false).toFloatArray(), 1e-5f);
        layer.hooks().unmergeAll();
        assertClose(w, layer.weight().getArray().toFloatArray(), 1e-5f);
        assertClose(expected, layer.forward(input, false).toFloatArray(), 1e-5f);
    }

    @Test
    void pissaStartsFromThePrincipalSingularPartAndTakesItOutOfTheBase() {
        int in = 5;
        int out = 6;
        int r = 2;
        double s = 2;
        LinearLayer layer = host(in, out);
        float[] w = layer.weight().getArray().toFloatArray();
        LoraLayer pissa = attach(layer, new LoraLayer(layer, r, s, 0, null, LoraConfig.Init.PISSA, false));
        pissa.initialize(manager);
        float[] a = pissa.parameters().get("lora_A.weight").getArray().toFloatArray();
        float[] b = pissa.parameters().get("lora_B.weight").getArray().toFloatArray();
        double[][] principal = adapted(new float[out * in], a, b, in, out, r, s); // s·B·A alone

        double[] sw = singularValues(w, out, in);
        double[] sp = singularValues(flatten(principal), out, in);
        double[][] rest = new double[out][in];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                rest[o][i] = w[o * in + i] - principal[o][i];
            }
        }
        double[] sr = singularValues(flatten(rest), out, in);
        assertEquals(sw[0], sp[0], 1e-4, "s·B·A holds W's largest singular value");
        assertEquals(sw[1], sp[1], 1e-4);
        assertEquals(0, sp[2], 1e-4, "and has rank r");
        assertEquals(sw[2], sr[0], 1e-4, "the residual W − s·B·A starts at W's third singular value");
        assertEquals(0f, pissa.deltaWeight().abs().max().getFloat(), 1e-6, "the model starts unchanged");

        NDArray x = manager.create(gaussian(2 * in), new Shape(2, in));
        float[] before = layer.forward(x, false).toFloatArray();
        float[] bumped = b.clone();
        bumped[0] += 1f;
        pissa.parameters().get("lora_B.weight").getArray().set(bumped);
        Map<String, NDArray> saved = pissa.stateToSave();
        assertEquals(new Shape(2 * r, in), saved.get("lora_A.weight").getShape(), "saved as LoRA of rank 2r");
        assertEquals(new Shape(out, 2 * r), saved.get("lora_B.weight").getShape());
        // The saved rank-2r LoRA with alpha 2α on the untouched W gives the trained output.
        LinearLayer plain = host(in, out);
        plain.weight().getArray().set(w);
        plain.bias().getArray().set(layer.bias().getArray().toFloatArray());
        LoraLayer lora = attach(plain, new LoraLayer(plain, 2 * r, 2 * s * r / (2.0 * r), 0, null, LoraConfig.Init.KAIMING, false));
        lora.initialize(manager);
        lora.parameters().get("lora_A.weight").getArray().set(saved.get("lora_A.weight").toFloatArray());
        lora.parameters().get("lora_B.weight").getArray().set(saved.get("lora_B.weight").toFloatArray());
        assertClose(layer.forward(x, false).toFloatArray(), plain.forward(x, false).toFloatArray(), 1e-5f);
        assertTrue(org.peft4j.Fixtures.maxAbsDiff(before, layer.forward(x, false).toFloatArray()) > 1e-3, "the bumped B changed the output");

        LoraConfig cfg = new LoraConfig(r, 8, 0, org.peft4j.tuners.TargetModules.of("q"), false, Map.of("q", 3),
                Map.of("q", 6.0), LoraConfig.Bias.NONE, null, LoraConfig.Init.PISSA, null, null);
        LoraConfig savedCfg = (LoraConfig) cfg.savedConfig();
        assertEquals(2 * r, savedCfg.r());
        assertEquals(16, savedCfg.loraAlpha());
        assertEquals(LoraConfig.Init.KAIMING, savedCfg.init());
        assertEquals(cfg.scalingFor("x.q"), savedCfg.scalingFor("x.q"), 1e-12, "rank and alpha patterns keep s");
        assertEquals(cfg.scalingFor("x.k"), savedCfg.scalingFor("x.k"), 1e-12);
    }

    private static float[] flatten(double[][] m) {
        float[] out = new float[m.length * m[0].length];
        for (int i = 0; i < m.length; i++) {
            for (int j = 0; j < m[0].length; j++) {
                out[i * m[0].length + j] = (float) m[i][j];
            }
        }
        return out;
    }

    private static double[] singularValues(float[] m, int rows, int cols) {
        DMatrixRMaj d = new DMatrixRMaj(rows, cols);
        for (int i = 0; i < rows * cols; i++) {
            d.data[i] = m[i];
        }
        double[] s = SingularOps_DDRM.singularValues(d);
        java.util.Arrays.sort(s);
        double[] desc = new double[s.length];
        for (int i = 0; i < s.length; i++) {
            desc[i] = s[s.length - 1 - i];
        }
        return desc;
    }
}
