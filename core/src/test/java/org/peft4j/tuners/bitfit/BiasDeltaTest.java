package org.peft4j.tuners.bitfit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.peft4j.ManagedTest;
import org.peft4j.nn.LinearLayer;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.peft4j.Fixtures.assertClose;

/** BitFit: y + Δb, and the merge b ← b + Δb that leaves the weight alone. */
class BiasDeltaTest extends ManagedTest {

    @Test
    void addsTheDeltaAndMergesIntoTheBias() {
        LinearLayer layer = new LinearLayer(4, 3, true);
        layer.initialize(manager);
        BiasDelta d = new BiasDelta(layer);
        d.initialize(manager);
        assertEquals(0f, d.parameters().get("bias_delta").getArray().abs().sum().getFloat(), "starts at the base model");
        float[] delta = {1f, -2f, 0.5f};
        d.parameters().get("bias_delta").getArray().set(delta);
        NDArray x = manager.randomNormal(new Shape(2, 4));
        float[] base = layer.forward(x, false).toFloatArray();
        float[] w = layer.weight().getArray().toFloatArray();
        float[] b = layer.bias().getArray().toFloatArray();
        layer.hooks().add("a", d);
        layer.hooks().setActive(List.of("a"));
        float[] y = layer.forward(x, false).toFloatArray();
        for (int i = 0; i < y.length; i++) {
            assertEquals(base[i] + delta[i % 3], y[i], 1e-6);
        }
        layer.hooks().merge("a", true);
        assertClose(y, layer.forward(x, false).toFloatArray(), 1e-6f);
        assertClose(w, layer.weight().getArray().toFloatArray(), 0f);
        assertEquals(b[1] - 2f, layer.bias().getArray().toFloatArray()[1], 1e-6);
    }
}
