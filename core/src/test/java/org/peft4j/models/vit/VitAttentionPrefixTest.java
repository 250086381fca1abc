package org.peft4j.models.vit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.peft4j.ManagedTest;
import org.peft4j.nn.ForwardContext;

import java.util.Map;
import java.util.Random;

import static org.peft4j.Fixtures.assertClose;

/** Prefix keys and values: every query attends over [P_K; K] and mixes [P_V; V], per head, against a double-precision loop. */
class VitAttentionPrefixTest extends ManagedTest {

    private static final int D = 8;
    private static final int HEADS = 2;
    private static final int N = 3;
    private static final int L = 2;

    @Test
    void prefixesJoinTheKeysAndValuesOfEveryHead() {
        for (VitNaming naming : VitNaming.values()) {
            VitConfig c = new VitConfig(D, 1, HEADS, 16, 8, 4, 1, 1e-6f, true, VitConfig.defaultLabels(2),
                    new float[] {0.5f}, new float[] {0.5f}, naming);
            VitAttention attention = new VitAttention(c, naming);
            attention.initialize(manager);
            Random random = new Random(11);
            float[] x = gaussian(random, N * D);
            float[] pk = gaussian(random, L * D);
            float[] pv = gaussian(random, L * D);
            NDList prefixes = new NDList(manager.create(pk, new Shape(1, L, D)), manager.create(pv, new Shape(1, L, D)));
            float[] actual = attention.attend(manager.create(x, new Shape(1, N, D)), prefixes, ForwardContext.INFERENCE)
                    .toFloatArray();
            assertClose(expected(attention, naming, x, pk, pv), actual, 1e-5f);
        }
    }

    private static float[] gaussian(Random random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }

    private static double[][] linear(float[] x, int rows, float[] w, float[] b, int in, int out, int rowOffset) {
        double[][] y = new double[rows][out];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double acc = b[rowOffset + o];
                for (int i = 0; i < in; i++) {
                    acc += (double) w[(rowOffset + o) * in + i] * x[r * in + i];
                }
                y[r][o] = acc;
            }
        }
        return y;
    }

    private static float[] expected(VitAttention attention, VitNaming naming, float[] x, float[] pk, float[] pv) {
        Map<String, ai.djl.nn.Parameter> p = attention.namedParameters();
        double[][] q;
        double[][] k;
        double[][] v;
        String prefix = naming.attentionPrefix;
        if (naming.fusedQkv()) {
            float[] w = p.get(prefix + "qkv.weight").getArray().toFloatArray();
            float[] b = p.get(prefix + "qkv.bias").getArray().toFloatArray();
            q = linear(x, N, w, b, D, D, 0);
            k = linear(x, N, w, b, D, D, D);
            v = linear(x, N, w, b, D, D, 2 * D);
        } else {
            q = linear(x, N, p.get(prefix + "query.weight").getArray().toFloatArray(),
                    p.get(prefix + "query.bias").getArray().toFloatArray(), D, D, 0);
            k = linear(x, N, p.get(prefix + "key.weight").getArray().toFloatArray(),
                    p.get(prefix + "key.bias").getArray().toFloatArray(), D, D, 0);
            v = linear(x, N, p.get(prefix + "value.weight").getArray().toFloatArray(),
                    p.get(prefix + "value.bias").getArray().toFloatArray(), D, D, 0);
        }
        int hd = D / HEADS;
        float[] context = new float[N * D];
        for (int h = 0; h < HEADS; h++) {
            for (int i = 0; i < N; i++) {
                double[] scores = new double[L + N];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < L + N; j++) {
                    double s = 0;
                    for (int e = 0; e < hd; e++) {
                        double key = j < L ? pk[j * D + h * hd + e] : k[j - L][h * hd + e];
                        s += q[i][h * hd + e] * key;
                    }
                    scores[j] = s / Math.sqrt(hd);
                    max = Math.max(max, scores[j]);
                }
                double sum = 0;
                for (int j = 0; j < L + N; j++) {
                    scores[j] = Math.exp(scores[j] - max);
                    sum += scores[j];
                }
                for (int e = 0; e < hd; e++) {
                    double acc = 0;
                    for (int j = 0; j < L + N; j++) {
                        double value = j < L ? pv[j * D + h * hd + e] : v[j - L][h * hd + e];
                        acc += scores[j] / sum * value;
                    }
                    context[i * D + h * hd + e] = (float) acc;
                }
            }
        }
        double[][] out = linear(context, N, p.get(naming.attentionOutput + ".weight").getArray().toFloatArray(),
                p.get(naming.attentionOutput + ".bias").getArray().toFloatArray(), D, D, 0);
        float[] flat = new float[N * D];
        for (int i = 0; i < N; i++) {
            for (int o = 0; o < D; o++) {
                flat[i * D + o] = (float) out[i][o];
            }
        }
        return flat;
    }
}
