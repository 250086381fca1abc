package org.peft4j.tuners.lora;

import org.peft4j.ManagedTest;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.LinearLayer;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.peft4j.Fixtures.assertClose;

/** LoRA's math against a plain double-precision computation of {@code s·(x Aᵀ)Bᵀ} and {@code s·B·A}. */
class LoraLayerTest extends ManagedTest {

    private final Random random = new Random(7);

    @BeforeEach
    void open() {
        Engine.getInstance().setRandomSeed(11);
    }

    private float[] gaussian(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }

    private LoraLayer adapter(long in, long out, int rank, double scale, double dropout, List<Boolean> slices) {
        return layer(in, out, rank, scale, dropout, slices, LoraConfig.Init.RANDOM);
    }

    private LoraLayer layer(long in, long out, int rank, double scale, double dropout, List<Boolean> slices,
                            LoraConfig.Init init) {
        LinearLayer host = new LinearLayer(in, out, true);
        host.initialize(manager);
        LoraLayer a = new LoraLayer(host, rank, scale, dropout, slices, init, false);
        a.initialize(manager);
        return a;
    }

    /** What the hook adds to the layer output. */
    private NDArray delta(LoraLayer lora, NDArray x, boolean training) {
        long out = lora.deltaWeight().getShape().get(0);
        Shape s = x.getShape();
        NDArray zeros = manager.zeros(s.slice(0, s.dimension() - 1).add(out));
        return lora.adaptOutput(x, zeros, zeros, ForwardContext.of(training));
    }

    private static float[] values(LoraLayer a, String name) {
        return a.parameters().get(name).getArray().toFloatArray();
    }

    /** {@code s · B[bRows, r] · A[r, in]} in doubles. */
    private static double[][] deltaWeight(float[] a, float[] b, int rank, int in, int bRows, double s) {
        double[][] d = new double[bRows][in];
        for (int o = 0; o < bRows; o++) {
            for (int i = 0; i < in; i++) {
                double acc = 0;
                for (int k = 0; k < rank; k++) {
                    acc += (double) b[o * rank + k] * a[k * in + i];
                }
                d[o][i] = s * acc;
            }
        }
        return d;
    }

    /** {@code s · (x Aᵀ) Bᵀ} for {@code x [n, in]}, in doubles. */
    private static double[][] delta(float[] x, int n, float[] a, float[] b, int rank, int in, int bRows, double s) {
        double[][] out = new double[n][bRows];
        for (int row = 0; row < n; row++) {
            double[] u = new double[rank];
            for (int k = 0; k < rank; k++) {
                for (int i = 0; i < in; i++) {
                    u[k] += (double) x[row * in + i] * a[k * in + i];
                }
            }
            for (int o = 0; o < bRows; o++) {
                double acc = 0;
                for (int k = 0; k < rank; k++) {
                    acc += u[k] * b[o * rank + k];
                }
                out[row][o] = s * acc;
            }
        }
        return out;
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

    @Test
    void deltaIsScaledXATransposedBTransposed() {
        int in = 6;
        int out = 5;
        int rank = 3;
        double s = 1.7;
        LoraLayer lora = adapter(in, out, rank, s, 0, null);
        assertEquals(new Shape(rank, in), lora.parameters().get("lora_A.weight").getShape());
        assertEquals(new Shape(out, rank), lora.parameters().get("lora_B.weight").getShape());
        assertEquals(List.of("lora_A.weight", "lora_B.weight"), List.copyOf(lora.parameters().keySet()));
        float[] a = values(lora, "lora_A.weight");
        float[] b = values(lora, "lora_B.weight");
        float[] x = gaussian(4 * in);

        NDArray y = delta(lora, manager.create(x, new Shape(4, in)), false);
        assertEquals(new Shape(4, out), y.getShape());
        float[] expected = flatten(delta(x, 4, a, b, rank, in, out, s));
        assertClose(expected, y.toFloatArray(), 1e-5f);
        assertTrue(maxAbs(expected) > 0.1, "the check is not trivially met by zeros");

        // Any leading axes: [2, 2, in] gives the same rows.
        NDArray y3 = delta(lora, manager.create(x, new Shape(2, 2, in)), false);
        assertEquals(new Shape(2, 2, out), y3.getShape());
        assertClose(expected, y3.toFloatArray(), 1e-5f);
    }

    @Test
    void deltaWeightIsScaledBA() {
        LoraLayer lora = adapter(7, 4, 2, 0.6, 0, null);
        float[] a = values(lora, "lora_A.weight");
        float[] b = values(lora, "lora_B.weight");
        NDArray dw = lora.deltaWeight();
        assertEquals(new Shape(4, 7), dw.getShape());
        assertClose(flatten(deltaWeight(a, b, 2, 7, 4, 0.6)), dw.toFloatArray(), 1e-6f);

        // x ΔWᵀ is the same as delta(x): the merged and unmerged forms agree.
        NDArray x = manager.create(gaussian(3 * 7), new Shape(3, 7));
        assertClose(delta(lora, x, false).toFloatArray(), Linear.linear(x, dw).singletonOrThrow().toFloatArray(), 1e-5f);
    }

    @Test
    void fusedQkvWithTheKeySliceDisabled() {
        int in = 8;
        int out = 3 * in;
        int rank = 2;
        double s = 1.5;
        LoraLayer lora = adapter(in, out, rank, s, 0, List.of(true, false, true));
        // B holds rows for the q and v slices only.
        assertEquals(new Shape(2L * in, rank), lora.parameters().get("lora_B.weight").getShape());
        float[] a = values(lora, "lora_A.weight");
        float[] b = values(lora, "lora_B.weight");
        double[][] dwEnabled = deltaWeight(a, b, rank, in, 2 * in, s);

        float[] dw = lora.deltaWeight().toFloatArray();
        assertEquals(out * in, dw.length);
        for (int row = 0; row < out; row++) {
            for (int i = 0; i < in; i++) {
                float actual = dw[row * in + i];
                if (row >= in && row < 2 * in) {
                    assertEquals(0f, actual, "k row " + row + " must be exactly zero");
                } else {
                    double expected = dwEnabled[row < in ? row : row - in][i];
                    assertEquals(expected, actual, 1e-6, "row " + row);
                }
            }
        }

        int n = 3;
        float[] x = gaussian(n * in);
        double[][] dEnabled = delta(x, n, a, b, rank, in, 2 * in, s);
        float[] d = delta(lora, manager.create(x, new Shape(n, in)), false).toFloatArray();
        for (int row = 0; row < n; row++) {
            for (int o = 0; o < out; o++) {
                float actual = d[row * out + o];
                if (o >= in && o < 2 * in) {
                    assertEquals(0f, actual, "k output " + o + " must be exactly zero");
                } else {
                    assertEquals(dEnabled[row][o < in ? o : o - in], actual, 1e-5, "output " + o);
                }
            }
        }
    }

    @Test
    void mergedFusedLayerGivesTheUnmergedOutputAndLeavesTheKeyRowsAlone() {
        int in = 8;
        LinearLayer layer = new LinearLayer(in, 3L * in, true);
        layer.initialize(manager);
        LoraLayer lora = new LoraLayer(layer, 2, 2.0, 0, List.of(true, false, true), LoraConfig.Init.RANDOM, false);
        lora.initialize(manager);
        layer.hooks().add("a", lora);
        layer.hooks().setActive(List.of("a"));
        NDArray x = manager.create(gaussian(4 * in), new Shape(4, in));
        float[] base = Linear.linear(x, layer.weight().getArray(), layer.bias().getArray()).singletonOrThrow().toFloatArray();
        float[] unmerged = layer.forward(x, false).toFloatArray();
        float[] w = layer.weight().getArray().toFloatArray();

        layer.hooks().merge("a", true);
        assertEquals(List.of("a"), layer.hooks().merged());
        float[] merged = layer.forward(x, false).toFloatArray();
        assertClose(unmerged, merged, 1e-5f);
        float[] wMerged = layer.weight().getArray().toFloatArray();
        for (int i = in * in; i < 2 * in * in; i++) {
            assertEquals(w[i], wMerged[i], "k rows of W are untouched (index " + i + ")");
        }
        assertFalse(java.util.Arrays.equals(w, wMerged), "q and v rows changed");
        for (int row = 0; row < 4; row++) {
            for (int o = in; o < 2 * in; o++) {
                int i = row * 3 * in + o;
                assertEquals(base[i], unmerged[i], 1e-6f, "k output equals the base output");
            }
        }

        layer.hooks().unmergeAll();
        assertClose(w, layer.weight().getArray().toFloatArray(), 1e-6f);
        assertClose(unmerged, layer.forward(x, false).toFloatArray(), 1e-5f);
    }

    @Test
    void slicesMustDivideTheOutputs() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new LoraLayer(new LinearLayer(8, 25, true), 2, 1, 0, List.of(true, false, true),
                        LoraConfig.Init.KAIMING, false));
        assertTrue(e.getMessage().contains("enable_lora"), e.getMessage());
    }

    @Test
    void dropoutOnlyWhenTraining() {
        int dim = 16;
        double p = 0.5;
        // A = B = identity and s = 1, so delta(x) is exactly what dropout makes of x.
        LoraLayer lora = adapter(dim, dim, dim, 1.0, p, null);
        float[] eye = new float[dim * dim];
        for (int i = 0; i < dim; i++) {
            eye[i * dim + i] = 1f;
        }
        lora.parameters().get("lora_A.weight").getArray().set(eye);
        lora.parameters().get("lora_B.weight").getArray().set(eye);
        float[] x = gaussian(8 * dim);
        NDArray input = manager.create(x, new Shape(8, dim));

        float[] eval1 = delta(lora, input, false).toFloatArray();
        float[] eval2 = delta(lora, input, false).toFloatArray();
        assertArrayEquals(eval1, eval2, "eval output is deterministic");
        assertClose(x, eval1, 1e-6f);

        float[] train = delta(lora, input, true).toFloatArray();
        int dropped = 0;
        for (int i = 0; i < x.length; i++) {
            if (train[i] == 0f) {
                dropped++;
            } else {
                // Inverted dropout: kept inputs are scaled by 1/(1-p).
                assertEquals(x[i] / (1 - p), train[i], 1e-5, "element " + i);
            }
        }
        // 128 draws with p = 0.5: far outside [20, 108] only with probability < 1e-15.
        assertTrue(dropped > 20 && dropped < 108, "dropped " + dropped + " of " + x.length);
    }

    @Test
    void initialisationsFollowPeft() {
        int in = 512;
        int rank = 4;
        LoraLayer kaiming = layer(in, 16, rank, 1, 0, null, LoraConfig.Init.KAIMING);
        float[] a = values(kaiming, "lora_A.weight");
        float bound = (float) (1 / Math.sqrt(in));
        assertTrue(maxAbs(a) <= bound && maxAbs(a) > 0.9 * bound, "A ~ U(±1/√in), max " + maxAbs(a));
        assertEquals(0f, maxAbs(values(kaiming, "lora_B.weight")), "B starts at zero: the base model is unchanged");
        assertEquals(0f, maxAbs(kaiming.deltaWeight().toFloatArray()));

        LoraLayer gaussian = layer(in, 16, rank, 1, 0, null, LoraConfig.Init.GAUSSIAN);
        float[] g = values(gaussian, "lora_A.weight");
        double sum = 0;
        for (float v : g) {
            sum += v * v;
        }
        double std = Math.sqrt(sum / g.length);
        assertEquals(1.0 / rank, std, 0.1 / rank, "A ~ N(0, 1/r)");
        assertEquals(0f, maxAbs(values(gaussian, "lora_B.weight")));

        LoraLayer random = layer(in, 16, rank, 1, 0, null, LoraConfig.Init.RANDOM);
        float[] b = values(random, "lora_B.weight");
        float bBound = (float) (1 / Math.sqrt(rank));
        assertTrue(maxAbs(b) <= bBound && maxAbs(b) > 0.5 * bBound, "B ~ U(±1/√r), max " + maxAbs(b));
    }

    private static float maxAbs(float[] v) {
        float m = 0;
        for (float f : v) {
            m = Math.max(m, Math.abs(f));
        }
        return m;
    }
}
