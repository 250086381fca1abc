package org.peft4j.nn;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.SingularOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;

/**
 * The top-{@code rank} singular triplets of a row-major float matrix, {@code M ≈ U_r diag(S_r) V_rᵀ},
 * computed in double precision with EJML (DJL's PyTorch engine exposes no SVD). Singular values
 * come in descending order; each vector's sign is EJML's, so only products such as {@code U S Vᵀ}
 * are unique.
 *
 * @param u  {@code [rows, rank]} row-major
 * @param s  {@code [rank]}
 * @param vt {@code [rank, cols]} row-major
 */
public record Svd(int rows, int cols, int rank, double[] u, double[] s, double[] vt) {

    public static Svd top(float[] matrix, int rows, int cols, int rank) {
        if (rank <= 0 || rank > Math.min(rows, cols)) {
            throw new IllegalArgumentException("rank must be in [1, " + Math.min(rows, cols) + "], got " + rank);
        }
        DMatrixRMaj m = new DMatrixRMaj(rows, cols);
        for (int i = 0; i < matrix.length; i++) {
            m.data[i] = matrix[i];
        }
        SingularValueDecomposition_F64<DMatrixRMaj> svd = DecompositionFactory_DDRM.svd(rows, cols, true, true, true);
        if (!svd.decompose(m)) {
            throw new IllegalStateException("SVD of a " + rows + "x" + cols + " matrix did not converge");
        }
        DMatrixRMaj uFull = svd.getU(null, false);
        DMatrixRMaj w = svd.getW(null);
        DMatrixRMaj v = svd.getV(null, false);
        SingularOps_DDRM.descendingOrder(uFull, false, w, v, false);
        double[] u = new double[rows * rank];
        double[] s = new double[rank];
        double[] vt = new double[rank * cols];
        for (int k = 0; k < rank; k++) {
            s[k] = w.get(k, k);
            for (int i = 0; i < rows; i++) {
                u[i * rank + k] = uFull.get(i, k);
            }
            for (int j = 0; j < cols; j++) {
                vt[k * cols + j] = v.get(j, k);
            }
        }
        return new Svd(rows, cols, rank, u, s, vt);
    }

    /** {@code U_r diag(S_r)} as floats, {@code [rows, rank]}. */
    public float[] scaledU() {
        float[] out = new float[rows * rank];
        for (int i = 0; i < rows; i++) {
            for (int k = 0; k < rank; k++) {
                out[i * rank + k] = (float) (u[i * rank + k] * s[k]);
            }
        }
        return out;
    }

    /** {@code V_rᵀ} as floats, {@code [rank, cols]}. */
    public float[] vtFloats() {
        float[] out = new float[vt.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) vt[i];
        }
        return out;
    }
}
