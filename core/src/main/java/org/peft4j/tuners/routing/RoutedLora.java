package org.peft4j.tuners.routing;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.Hook;
import org.peft4j.nn.Initializers;
import org.peft4j.nn.LayerHook;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.Ops;
import org.peft4j.nn.VisualInputs;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * LoRA with a routing function in its bottleneck (METHODS.md §3):
 * {@code y = W0 x + b0 + s·B·R(drop(x) Aᵀ, x_R Aᵀ)}, {@code s = α/r}, x_R the pooled visual feature
 * of the pass. With {@link Routing#NONE} it is plain LoRA, with the same parameters.
 *
 * <p>On a fused projection (GPT-2's {@code c_attn}) the enabled slices (q and v) each get their own
 * r rows of A and their own block of B, as loralib's MergedLinear: the bottleneck is the
 * concatenated {@code k·r}, which the matrix routings mix across slices. A is {@code [k·r, in]},
 * B {@code [k·out/slices, r]} (slice j's block in rows j·out/slices ..).
 *
 * <p>Not mergeable: the update depends on the image.
 */
final class RoutedLora implements LayerHook {

    private final Routing routing;
    private final int rank;
    private final float scale;
    private final float dropout;
    private final boolean[] enabled;
    private final long sliceOut;
    private final Parameter loraA;
    private final Parameter loraB;

    RoutedLora(LinearLayer layer, Routing routing, int rank, double alpha, double dropout, boolean[] enabledSlices) {
        this.routing = routing;
        this.rank = rank;
        this.scale = (float) (alpha / rank);
        this.dropout = (float) dropout;
        this.enabled = enabledSlices == null ? new boolean[] {true} : enabledSlices.clone();
        if (layer.outFeatures() % enabled.length != 0) {
            throw new IllegalArgumentException(enabled.length + " slices do not divide the layer's " + layer.outFeatures() + " outputs");
        }
        int on = 0;
        for (boolean e : enabled) {
            on += e ? 1 : 0;
        }
        if (on == 0) {
            throw new IllegalArgumentException("enable_lora enables no slice");
        }
        sliceOut = layer.outFeatures() / enabled.length;
        loraA = Hook.parameter("lora_A.weight", new Shape((long) on * rank, layer.inFeatures()), Initializers.uniformFanIn(layer.inFeatures()));
        loraB = Hook.parameter("lora_B.weight", new Shape(on * sliceOut, rank), Initializers.zeros());
    }

    @Override
    public Map<String, Parameter> parameters() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        m.put("lora_A.weight", loraA);
        m.put("lora_B.weight", loraB);
        return m;
    }

    @Override
    public NDArray adaptOutput(NDArray x, NDArray base, NDArray y, ForwardContext ctx) {
        NDArray h = ctx.training() && dropout > 0 ? Dropout.dropout(x, dropout, true).singletonOrThrow() : x;
        NDArray a = loraA.getArray();
        NDArray xt = Linear.linear(h, a).singletonOrThrow(); // [B, N, k·r]
        NDArray routed = xt;
        if (routing != Routing.NONE) {
            NDArray feature = VisualInputs.require(ctx, VisualInputs.FEATURE, "a LoRA with routing '" + routing.configName + "'");
            routed = routing.apply(xt, Linear.linear(feature, a).singletonOrThrow());
        }
        NDArray up = Linear.linear(Ops.scale(routed, scale), upProjection(x.getManager())).singletonOrThrow();
        return y.add(up);
    }

    /** B as {@code [out, k·r]}: block-diagonal over the enabled slices, zero rows for the others. */
    NDArray upProjection(NDManager m) {
        NDArray b = loraB.getArray();
        if (enabled.length == 1) {
            return b;
        }
        int on = (int) (loraB.getShape().get(0) / sliceOut);
        NDList rows = new NDList();
        int block = 0;
        for (boolean e : enabled) {
            if (!e) {
                rows.add(m.zeros(new Shape(sliceOut, (long) on * rank)));
                continue;
            }
            NDList cols = new NDList();
            for (int j = 0; j < on; j++) {
                cols.add(j == block ? b.get(block * sliceOut + ":" + (block + 1) * sliceOut)
                        : m.zeros(new Shape(sliceOut, rank)));
            }
            rows.add(NDArrays.concat(cols, 1));
            block++;
        }
        NDArray full = NDArrays.concat(rows, 0);
        full.attach(m); // made from a parameter: free it with the step (DJL-NOTES)
        return full;
    }
}
