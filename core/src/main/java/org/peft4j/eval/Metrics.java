package org.peft4j.eval;

/** Small numeric helpers for evaluation. */
public final class Metrics {
    private Metrics() {
    }

    /**
     * Index of the largest value in each row of a row-major rows x cols matrix; ties go to the first.
     * The first NaN counts as the largest, as in torch.argmax.
     */
    public static int[] argmax(float[] logits, int rows, int cols) {
        if (rows < 0 || cols <= 0 || logits.length != (long) rows * cols) {
            throw new IllegalArgumentException("argmax: " + logits.length + " values do not form a " + rows + "x" + cols
                    + " matrix");
        }
        int[] result = new int[rows];
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            int best = 0;
            for (int c = 0; c < cols; c++) {
                float v = logits[base + c];
                if (Float.isNaN(v)) {
                    best = c;
                    break;
                }
                if (v > logits[base + best]) {
                    best = c;
                }
            }
            result[r] = best;
        }
        return result;
    }

    /**
     * Softmax probabilities of the {@code count} logits starting at {@code from}, computed relative to
     * the largest (so the top class's is {@code 1 / Σ exp(l - max)}).
     */
    public static double[] softmax(float[] logits, int from, int count) {
        double max = Double.NEGATIVE_INFINITY;
        for (int k = from; k < from + count; k++) {
            max = Math.max(max, logits[k]);
        }
        double sum = 0;
        for (int k = from; k < from + count; k++) {
            sum += Math.exp(logits[k] - max);
        }
        double[] p = new double[count];
        for (int k = 0; k < count; k++) {
            p[k] = Math.exp(logits[from + k] - max) / sum;
        }
        return p;
    }
}
