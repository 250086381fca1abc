package org.peft4j.tuners.routing;

import ai.djl.ndarray.NDArray;

import java.util.Arrays;

/**
 * The routing functions of METHODS.md §3: parameter-free operations that replace a low-rank
 * bottleneck {@code x_t = x_H Aᵀ} by a mix with the visual feature's own projection
 * {@code x_v = x_R Aᵀ} through the same A, before the up-projection.
 */
public enum Routing {
    /** The unrouted bottleneck: {@code x_t}. */
    NONE("none", "none"),
    /** {@code x_t,n + x_v}. */
    ADD("add", "element_add"),
    /** {@code x_t,n ⊙ x_v}. */
    MUL("mul", "element_mul"),
    /** {@code (Σ_k x_t,n,k) · x_v}. */
    MUL_EXPAND("mul_expand", "element_mul_expand"),
    /** The matrix routing (default of the paper's code): {@code (x_t,n · x_v) · x_v}. */
    VL("vl", "vl");

    /** The name on the command line. */
    public final String cliName;
    /** The name in adapter_config.json, as the paper's code spells it. */
    public final String configName;

    Routing(String cliName, String configName) {
        this.cliName = cliName;
        this.configName = configName;
    }

    /** By either name. */
    public static Routing of(String name) {
        for (Routing r : values()) {
            if (r.cliName.equals(name) || r.configName.equals(name)) {
                return r;
            }
        }
        throw new IllegalArgumentException("unknown routing '" + name + "'; one of "
                + Arrays.stream(values()).map(r -> r.cliName).toList());
    }

    /** {@code R(x_t, x_v)}: {@code xt [B, N, r]}, {@code xv [B, 1, r]} → {@code [B, N, r]}. */
    public NDArray apply(NDArray xt, NDArray xv) {
        return switch (this) {
            case NONE -> xt;
            case ADD -> xt.add(xv);
            case MUL -> xt.mul(xv);
            case MUL_EXPAND -> xt.sum(new int[] {-1}, true).mul(xv);
            case VL -> xt.matMul(xv.transpose(0, 2, 1)).mul(xv);
        };
    }
}
