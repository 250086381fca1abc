package org.peft4j.nn;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.SingularOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.EigenDecomposition_F64;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;

/**
 * The top-{@code rank} singular triplets of a row-major float matrix, {@code M ≈ U_r diag(S_r) V_rᵀ},
 * computed in double precision with EJML (DJL's PyTorch engine exposes no SVD). Singular values
 * come in descending order; each vector's sign is EJML's, so only products such as {@code U S Vᵀ}
 * are unique.
 *
 * <p>Up to {@link #DIRECT_LIMIT} columns and rows (the smaller side) the full SVD is taken. Above
 * it, a full SVD of a ViT-B weight (2304 x 768) costs seconds per layer, so the top part comes from
 * the symmetric eigendecomposition of the Gram matrix on the smaller side, {@code MᵀM = V S² Vᵀ},
 * with {@code U_r = M V_r S_r⁻¹}: about five times faster, and in double precision exact for the
 * leading singular values (a relative error near {@code 1e-16·σ₁²/σ_k²}), which are the ones kept.
 *
 * @param u  {@code [rows, rank]} row-major
 * @param s  {@code [rank]}
 * @param vt {@code [rank, cols]} row-major
 */
public record Svd(int rows, int cols, int rank, double[] u, double[] s, double[] vt) {

    /** Above this many rows and columns (the smaller side), the Gram-matrix route is taken. */
    public static final int DIRECT_LIMIT = 256;

    public static Svd top(float[] matrix, int rows, int cols, int rank) {
        if (rank <= 0 || rank > Math.min(rows, cols)) {
            throw new IllegalArgumentException("rank must be in [1, " + Math.min(rows, cols) + "], got " + rank);
        }
        DMatrixRMaj m = new DMatrixRMaj(rows, cols);
        for (int i = 0; i < matrix.length; i++) {
            m.data[i] = matrix[i];
        }
        return Math.min(rows, cols) > DIRECT_LIMIT ? viaGram(m, rank) : direct(m, rank);
    }

    /** Package-private for tests: both routes on the same matrix. */
    static Svd direct(float[] matrix, int rows, int cols, int rank, boolean gram) {
        DMatrixRMaj m = new DMatrixRMaj(rows, cols);
        for (int i = 0; i < matrix.length; i++) {
            m.data[i] = matrix[i];
        }
        return gram ? viaGram(m, rank) : direct(m, rank);
    }

    private static Svd direct(DMatrixRMaj m, int rank) {
        int rows = m.numRows;
        int cols = m.numCols;
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

    /** From the eigenvectors of the Gram matrix of the smaller side (see the class comment). */
    private static Svd viaGram(DMatrixRMaj m, int rank) {
        int rows = m.numRows;
        int cols = m.numCols;
        boolean tall = rows >= cols;
        int n = tall ? cols : rows;
        DMatrixRMaj gram = new DMatrixRMaj(n, n);
        if (tall) {
            CommonOps_DDRM.multTransA(m, m, gram);
        } else {
            CommonOps_DDRM.multTransB(m, m, gram);
        }
        EigenDecomposition_F64<DMatrixRMaj> eig = DecompositionFactory_DDRM.eig(n, true, true);
        if (!eig.decompose(gram)) {
            throw new IllegalStateException("eigendecomposition of a " + n + "x" + n + " Gram matrix did not converge");
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (a, b) -> Double.compare(eig.getEigenvalue(b).real, eig.getEigenvalue(a).real));
        double[] s = new double[rank];
        double[] u = new double[rows * rank];
        double[] vt = new double[rank * cols];
        double largest = Math.sqrt(Math.max(eig.getEigenvalue(order[0]).real, 0));
        for (int k = 0; k < rank; k++) {
            double sigma = Math.sqrt(Math.max(eig.getEigenvalue(order[k]).real, 0));
            s[k] = sigma;
            DMatrixRMaj e = eig.getEigenVector(order[k]); // a right (tall) or left (wide) singular vector
            DMatrixRMaj other = new DMatrixRMaj(tall ? rows : cols, 1);
            if (tall) {
                CommonOps_DDRM.mult(m, e, other);
            } else {
                CommonOps_DDRM.multTransA(m, e, other);
            }
            // A direction with no energy (rank below r) gets a zero partner: S is 0 there anyway.
            double inv = sigma > 1e-12 * Math.max(largest, Double.MIN_NORMAL) ? 1 / sigma : 0;
            for (int i = 0; i < rows; i++) {
                u[i * rank + k] = tall ? other.get(i, 0) * inv : e.get(i, 0);
            }
            for (int j = 0; j < cols; j++) {
                vt[k * cols + j] = tall ? e.get(j, 0) : other.get(j, 0) * inv;
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
