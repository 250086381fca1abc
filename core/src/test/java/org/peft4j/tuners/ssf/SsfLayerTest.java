package org.peft4j.tuners.ssf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.peft4j.ManagedTest;
import org.peft4j.nn.Conv2dLayer;
import org.peft4j.nn.LayerNormLayer;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.WeightedLayer;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.peft4j.Fixtures.assertClose;

/** SSF: γ ⊙ y + β per output channel, whatever axis the layer's channels are on, and its merge. */
class SsfLayerTest extends ManagedTest {

    private SsfLayer ssf(WeightedLayer layer, float[] gamma, float[] beta) {
        layer.initialize(manager);
        SsfLayer s = new SsfLayer(layer, 0.02);
        s.initialize(manager);
        s.parameters().get("ssf_scale").getArray().set(gamma);
        s.parameters().get("ssf_shift").getArray().set(beta);
        layer.hooks().add("a", s);
        return s;
    }

    private static float[] scaledShifted(float[] base, float[] gamma, float[] beta, int channels, int inner) {
        float[] out = new float[base.length];
        for (int i = 0; i < base.length; i++) {
            int c = (i / inner) % channels;
            out[i] = base[i] * gamma[c] + beta[c];
        }
        return out;
    }

    @Test
    void linearChannelsLastAndMerge() {
        LinearLayer layer = new LinearLayer(4, 3, true);
        float[] g = {1.5f, -2f, 0.5f};
        float[] b = {0.1f, 0.2f, -0.3f};
        ssf(layer, g, b);
        NDArray x = manager.randomNormal(new Shape(2, 5, 4));
        float[] base = layer.forward(x, false).toFloatArray();
        layer.hooks().setActive(List.of("a"));
        float[] y = layer.forward(x, false).toFloatArray();
        assertClose(scaledShifted(base, g, b, 3, 1), y, 1e-5f);
        layer.hooks().merge("a", true);
        assertClose(y, layer.forward(x, false).toFloatArray(), 1e-5f);
        layer.hooks().unmergeAll();
        assertClose(y, layer.forward(x, false).toFloatArray(), 1e-5f);
    }

    @Test
    void convolutionChannelsOnAxisOne() {
        Conv2dLayer conv = new Conv2dLayer(1, 2, 2, 2, true);
        float[] g = {3f, -1f};
        float[] b = {0.5f, 1f};
        ssf(conv, g, b);
        NDArray x = manager.randomNormal(new Shape(1, 1, 4, 4));
        float[] base = conv.forward(x, false).toFloatArray(); // [1, 2, 2, 2]
        conv.hooks().setActive(List.of("a"));
        float[] y = conv.forward(x, false).toFloatArray();
        assertClose(scaledShifted(base, g, b, 2, 4), y, 1e-5f);
        conv.hooks().merge("a", true);
        assertClose(y, conv.forward(x, false).toFloatArray(), 1e-5f);
    }

    @Test
    void layerNormMergesIntoItsAffineAndABiaslessLayerCannotTakeTheShift() {
        LayerNormLayer norm = new LayerNormLayer(3, 1e-6f);
        SsfLayer s = ssf(norm, new float[] {2f, 2f, 2f}, new float[] {1f, 0f, -1f});
        norm.hooks().setActive(List.of("a"));
        NDArray x = manager.randomNormal(new Shape(4, 3));
        float[] y = norm.forward(x, false).toFloatArray();
        assertNull(s.mergeBlocker());
        norm.hooks().merge("a", true);
        assertClose(y, norm.forward(x, false).toFloatArray(), 1e-5f);
        assertEquals(2f, norm.weight().getArray().toFloatArray()[0], 1e-6);

        LinearLayer noBias = new LinearLayer(3, 2, false);
        assertNotNull(ssf(noBias, new float[] {1f, 1f}, new float[] {0f, 0f}).mergeBlocker());
    }
}
