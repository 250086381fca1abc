package org.peft4j.nn;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The top singular part, by full SVD (small) and by the Gram route (large), agree with each other and with known spectra. */
class SvdTest {

    /** A rank-{@code k} matrix with singular values 10, 9, ... plus small noise, row-major. */
    private static float[] lowRankPlusNoise(int rows, int cols, int k, long seed) {
        Random r = new Random(seed);
        float[] m = new float[rows * cols];
        for (int c = 0; c < k; c++) {
            double[] u = unit(rows, r);
            double[] v = unit(cols, r);
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    m[i * cols + j] += (float) ((10 - c) * u[i] * v[j]);
                }
            }
        }
        for (int i = 0; i < m.length; i++) {
            m[i] += (float) (1e-3 * r.nextGaussian());
        }
        return m;
    }

    private static double[] unit(int n, Random r) {
        double[] v = new double[n];
        double norm = 0;
        for (int i = 0; i < n; i++) {
            v[i] = r.nextGaussian();
            norm += v[i] * v[i];
        }
        for (int i = 0; i < n; i++) {
            v[i] /= Math.sqrt(norm);
        }
        return v;
    }

    private static double[] product(Svd s) {
        double[] out = new double[s.rows() * s.cols()];
        for (int i = 0; i < s.rows(); i++) {
            for (int j = 0; j < s.cols(); j++) {
                double v = 0;
                for (int k = 0; k < s.rank(); k++) {
                    v += s.u()[i * s.rank() + k] * s.s()[k] * s.vt()[k * s.cols() + j];
                }
                out[i * s.cols() + j] = v;
            }
        }
        return out;
    }

    @ParameterizedTest
    @CsvSource({"600,300", "300,600"})
    void theGramRouteMatchesTheFullSvd(int rows, int cols) {
        float[] m = lowRankPlusNoise(rows, cols, 6, 1);
        Svd gram = Svd.direct(m, rows, cols, 4, true);
        Svd full = Svd.direct(m, rows, cols, 4, false);
        for (int k = 0; k < 4; k++) {
            assertEquals(full.s()[k], gram.s()[k], 1e-9 * full.s()[0], "σ" + k);
        }
        double[] a = product(gram);
        double[] b = product(full);
        for (int i = 0; i < a.length; i++) {
            assertEquals(b[i], a[i], 1e-9);
        }
        // orthonormal U columns
        for (int x = 0; x < 4; x++) {
            for (int y = 0; y < 4; y++) {
                double dot = 0;
                for (int i = 0; i < rows; i++) {
                    dot += gram.u()[i * 4 + x] * gram.u()[i * 4 + y];
                }
                assertEquals(x == y ? 1 : 0, dot, 1e-9);
            }
        }
    }

    @Test
    void aKnownSpectrumAndTheRankCheck() {
        float[] m = new float[40 * 30]; // diag(5, 4, 3, 2, 1) in a 40x30 frame, rows and columns shuffled
        int[] rows = {7, 22, 1, 39, 13};
        int[] cols = {3, 29, 11, 0, 17};
        for (int k = 0; k < 5; k++) {
            m[rows[k] * 30 + cols[k]] = 5 - k;
        }
        Svd s = Svd.top(m, 40, 30, 3);
        assertEquals(5, s.s()[0], 1e-12);
        assertEquals(3, s.s()[2], 1e-12);
        double[] p = product(s);
        assertEquals(5, p[7 * 30 + 3], 1e-12);
        assertEquals(0, p[39 * 30], 1e-12, "σ = 2 is dropped");
        assertThrows(IllegalArgumentException.class, () -> Svd.top(m, 40, 30, 31));
        Svd g = Svd.direct(m, 40, 30, 3, true);
        assertEquals(4, g.s()[1], 1e-12);
    }
}
