package org.peft4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW (Loshchilov & Hutter) as {@code torch.optim.AdamW}, with parameter groups and global-norm
 * gradient clipping. Written here because DJL's AdamW decays every parameter and its clipping
 * clamps elements instead of rescaling by the global norm (DJL-NOTES).
 *
 * <p>Biases, normalisation weights, tokens and embeddings (anything below 2-D, or named as such)
 * are not decayed, like the usual ViT fine-tuning recipes.
 */
public final class AdamW implements AutoCloseable {

    private final float beta1;
    private final float beta2;
    private final float eps;
    private final float weightDecay;
    private final List<Slot> slots = new ArrayList<>();
    private final NDManager stateManager;
    private long step;

    /** One parameter with its moments and whether it is decayed. */
    private record Slot(String name, Parameter param, NDArray m, NDArray v, boolean decay) {}

    /** Moments live in a sub-manager of {@code manager}, freed by {@link #close()}. */
    public AdamW(Map<String, Parameter> params, double weightDecay, NDManager manager) {
        this(params, weightDecay, 0.9, 0.999, 1e-8, manager);
    }

    public AdamW(Map<String, Parameter> params, double weightDecay, double beta1, double beta2, double eps,
                 NDManager manager) {
        this.stateManager = manager.newSubManager();
        this.beta1 = (float) beta1;
        this.beta2 = (float) beta2;
        this.eps = (float) eps;
        this.weightDecay = (float) weightDecay;
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            NDArray p = e.getValue().getArray();
            // Moments are created outside any step scope and live as long as the optimizer.
            NDArray m = stateManager.zeros(p.getShape(), p.getDataType());
            NDArray v = stateManager.zeros(p.getShape(), p.getDataType());
            NDScope.unregister(m, v);
            slots.add(new Slot(e.getKey(), e.getValue(), m, v, decays(e.getKey(), e.getValue())));
        }
    }

    /** The no-decay rule: biases, norms, 1-D parameters, class/prompt tokens, prefixes, IA³ vectors, position embeddings. */
    public static boolean decays(String name, Parameter p) {
        String n = name.toLowerCase();
        // A Parameter built from an array (Parameter.builder().optArray) declares no shape.
        Shape shape = p.getShape() != null ? p.getShape() : p.getArray().getShape();
        return shape.dimension() >= 2
                && !n.endsWith("bias")
                && !n.contains("norm")
                && !n.contains("token")
                && !n.contains("pos_embed")
                && !n.contains("position_embeddings")
                && !n.contains("prompt")
                && !n.contains("prefix")
                && !n.endsWith("ia3_l"); // a scaling vector: decaying it pulls towards 0, not the identity 1
    }

    public List<String> decayedNames() {
        return slots.stream().filter(Slot::decay).map(Slot::name).toList();
    }

    /**
     * Rescales all gradients so that their global L2 norm is at most {@code maxNorm} (as
     * {@code clip_grad_norm_}) and returns the norm before clipping.
     */
    public double clipGradNorm(double maxNorm) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            double total = 0;
            List<NDArray> grads = new ArrayList<>();
            for (Slot s : slots) {
                NDArray g = s.param.getArray().getGradient();
                grads.add(g);
                total += g.square().sum().getFloat();
            }
            double norm = Math.sqrt(total);
            if (maxNorm > 0 && norm > maxNorm) {
                float factor = (float) (maxNorm / (norm + 1e-6));
                for (NDArray g : grads) {
                    g.muli(factor);
                }
            }
            return norm;
        }
    }

    /** One update at learning rate {@code lr}; gradients are zeroed afterwards. */
    public void step(double lr) {
        step++;
        float lrF = (float) lr;
        float bc1 = (float) (1 - Math.pow(beta1, step));
        float bc2 = (float) (1 - Math.pow(beta2, step));
        float stepSize = lrF / bc1;
        float sqrtBc2 = (float) Math.sqrt(bc2);
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            for (Slot s : slots) {
                NDArray p = s.param.getArray();
                NDArray g = p.getGradient();
                if (s.decay && weightDecay > 0) {
                    p.muli(1 - lrF * weightDecay);
                }
                s.m.muli(beta1).addi(g.mul(1 - beta1));
                s.v.muli(beta2).addi(g.square().muli(1 - beta2));
                NDArray denom = s.v.sqrt().divi(sqrtBc2).addi(eps);
                p.subi(s.m.div(denom).muli(stepSize));
                Gradients.zero(p);
            }
        }
    }

    /** Frees the moments. */
    @Override
    public void close() {
        stateManager.close();
    }

    public long stepCount() {
        return step;
    }

    /** Moments and step count, by parameter name, for checkpoints. */
    public Map<String, NDArray> state() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Slot s : slots) {
            out.put("exp_avg." + s.name, s.m);
            out.put("exp_avg_sq." + s.name, s.v);
        }
        return out;
    }

    public void restore(Map<String, float[]> state, long stepCount) {
        for (Slot s : slots) {
            float[] m = state.get("exp_avg." + s.name);
            float[] v = state.get("exp_avg_sq." + s.name);
            if (m == null || v == null) {
                throw new IllegalArgumentException("checkpoint has no optimizer state for " + s.name);
            }
            org.peft4j.nn.Initializers.copyInto(s.m, m);
            org.peft4j.nn.Initializers.copyInto(s.v, v);
        }
        step = stepCount;
    }
}
