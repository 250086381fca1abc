package org.peft4j.tuners.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.peft4j.ManagedTest;
import org.peft4j.nn.ForwardContext;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.peft4j.Fixtures.assertClose;

/** The bottleneck on hand-set weights: sequential reads the branch output, parallel the branch input, scaled. */
class BottleneckAdapterTest extends ManagedTest {

    private static final int D = 2;

    /** Down = [[1, 0]], b_d = [-1]; Up = [[2], [3]], b_u = [0.5, 0]. */
    private BottleneckAdapter adapter(AdapterConfig.Style style, double scale) {
        AdapterConfig c = new AdapterConfig(style, 1, "relu", scale, null, null);
        BottleneckAdapter a = new BottleneckAdapter("adapter_mlp", D, c, style == AdapterConfig.Style.ADAPTFORMER);
        a.initialize(manager);
        a.parameters().get("adapter_mlp.down.weight").getArray().set(new float[] {1f, 0f});
        a.parameters().get("adapter_mlp.down.bias").getArray().set(new float[] {-1f});
        a.parameters().get("adapter_mlp.up.weight").getArray().set(new float[] {2f, 3f});
        a.parameters().get("adapter_mlp.up.bias").getArray().set(new float[] {0.5f, 0f});
        return a;
    }

    @Test
    void sequentialAdaptsTheBranchOutput() {
        NDArray input = manager.create(new float[] {10f, 10f}, new Shape(1, D));
        NDArray output = manager.create(new float[] {4f, 7f}, new Shape(1, D));
        // z = relu(4 − 1) = 3; a = [2·3 + 0.5, 3·3] = [6.5, 9]
        float[] y = adapter(AdapterConfig.Style.HOULSBY, 1).apply(input, output, ForwardContext.INFERENCE).toFloatArray();
        assertClose(new float[] {10.5f, 16f}, y, 1e-6f);
        // relu cuts a negative bottleneck: z = relu(0.5 − 1) = 0, a = b_u
        NDArray small = manager.create(new float[] {0.5f, 7f}, new Shape(1, D));
        assertClose(new float[] {1f, 7f},
                adapter(AdapterConfig.Style.PFEIFFER, 1).apply(input, small, ForwardContext.INFERENCE).toFloatArray(), 1e-6f);
    }

    @Test
    void parallelReadsTheBranchInputAndScales() {
        NDArray input = manager.create(new float[] {3f, 100f}, new Shape(1, D));
        NDArray output = manager.create(new float[] {1f, 1f}, new Shape(1, D));
        // z = relu(3 − 1) = 2; a = [4.5, 6]; out = 1 + 0.1·a
        float[] y = adapter(AdapterConfig.Style.ADAPTFORMER, 0.1).apply(input, output, ForwardContext.INFERENCE).toFloatArray();
        assertClose(new float[] {1.45f, 1.6f}, y, 1e-6f);
    }

    @Test
    void newAdaptersAreTheIdentityAndOptionsAreChecked() {
        AdapterConfig c = AdapterConfig.of(AdapterConfig.Style.HOULSBY, 4, List.of());
        BottleneckAdapter a = new BottleneckAdapter("adapter_attention", 8, c, false);
        a.initialize(manager);
        NDArray out = manager.randomNormal(new Shape(2, 3, 8));
        assertClose(out.toFloatArray(), a.apply(out, out, ForwardContext.TRAINING).toFloatArray(), 0f);
        assertEquals(2 * 8 * 4 + 4 + 8, a.parameters().values().stream().mapToLong(p -> p.getShape().size()).sum());
        assertThrows(IllegalArgumentException.class, () -> new AdapterConfig(AdapterConfig.Style.HOULSBY, 0, "relu", 1, null, null));
        assertThrows(IllegalArgumentException.class, () -> new AdapterConfig(AdapterConfig.Style.HOULSBY, 4, "tanh", 1, null, null));
    }
}
