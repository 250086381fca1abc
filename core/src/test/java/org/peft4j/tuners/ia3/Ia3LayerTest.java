package org.peft4j.tuners.ia3;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.peft4j.ManagedTest;
import org.peft4j.io.Json;
import org.peft4j.nn.LinearLayer;
import org.peft4j.tuners.TargetModules;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.peft4j.Fixtures.assertClose;

/** (IA)³ as PEFT computes and stores it, on hand-computed cases. */
class Ia3LayerTest extends ManagedTest {

    private LinearLayer host(int in, int out) {
        LinearLayer layer = new LinearLayer(in, out, true);
        layer.initialize(manager);
        return layer;
    }

    private static void activate(LinearLayer layer, Ia3Layer ia3) {
        layer.hooks().add("a", ia3);
        layer.hooks().setActive(List.of("a"));
    }

    @Test
    void outputSideScalesTheWholeOutputBiasIncluded() {
        LinearLayer layer = host(3, 2);
        float[] w = layer.weight().getArray().toFloatArray();
        float[] b = layer.bias().getArray().toFloatArray();
        Ia3Layer ia3 = new Ia3Layer(layer, false, true);
        ia3.initialize(manager);
        assertEquals(new Shape(2, 1), ia3.parameters().get("ia3_l").getShape(), "PEFT's [out, 1]");
        ia3.parameters().get("ia3_l").getArray().set(new float[] {2f, -0.5f});
        activate(layer, ia3);
        float[] x = {1f, 2f, 3f};
        float[] y = layer.forward(manager.create(x, new Shape(1, 3)), false).toFloatArray();
        for (int o = 0; o < 2; o++) {
            double base = b[o];
            for (int i = 0; i < 3; i++) {
                base += w[o * 3 + i] * x[i];
            }
            assertEquals((o == 0 ? 2 : -0.5) * base, y[o], 1e-5);
        }
        layer.hooks().merge("a", true);
        assertClose(y, layer.forward(manager.create(x, new Shape(1, 3)), false).toFloatArray(), 1e-5f);
        assertEquals(2 * b[0], layer.bias().getArray().toFloatArray()[0], 1e-6, "merge scales the bias too");
        layer.hooks().unmergeAll();
        assertClose(w, layer.weight().getArray().toFloatArray(), 1e-5f);
        assertClose(b, layer.bias().getArray().toFloatArray(), 1e-5f);
    }

    @Test
    void feedForwardSideScalesTheInputNotTheBias() {
        LinearLayer layer = host(3, 2);
        float[] w = layer.weight().getArray().toFloatArray();
        float[] b = layer.bias().getArray().toFloatArray();
        Ia3Layer ia3 = new Ia3Layer(layer, true, true);
        ia3.initialize(manager);
        assertEquals(new Shape(1, 3), ia3.parameters().get("ia3_l").getShape(), "PEFT's [1, in]");
        float[] l = {0.5f, 3f, -1f};
        ia3.parameters().get("ia3_l").getArray().set(l);
        activate(layer, ia3);
        float[] x = {1f, 2f, 3f};
        NDArray input = manager.create(x, new Shape(1, 3));
        float[] y = layer.forward(input, false).toFloatArray();
        for (int o = 0; o < 2; o++) {
            double expected = b[o];
            for (int i = 0; i < 3; i++) {
                expected += w[o * 3 + i] * x[i] * l[i];
            }
            assertEquals(expected, y[o], 1e-5);
        }
        layer.hooks().merge("a", true);
        assertClose(y, layer.forward(input, false).toFloatArray(), 1e-5f);
        assertClose(b, layer.bias().getArray().toFloatArray(), 0f);
    }

    @Test
    void peftConfigFieldsAndFeedforwardMatching() {
        Ia3Config c = new Ia3Config(TargetModules.of("key", "output.dense", "value"), List.of("output.dense"), null,
                List.of("classifier"), true);
        Set<String> keys = new TreeSet<>(c.toJson().keySet());
        assertEquals(new TreeSet<>(List.of("auto_mapping", "base_model_name_or_path", "exclude_modules", "fan_in_fan_out",
                "feedforward_modules", "inference_mode", "init_ia3_weights", "modules_to_save", "peft_type", "revision",
                "target_modules", "task_type")), keys);
        assertTrue(c.isFeedforward("vit.encoder.layer.0.output.dense"));
        assertTrue(c.isFeedforward("vit.encoder.layer.0.attention.output.dense"), "PEFT's plain suffix test");
        assertFalse(c.isFeedforward("vit.encoder.layer.0.attention.attention.key"));
        JsonNode j = Json.MAPPER.valueToTree(c.toJson());
        assertEquals(c, Ia3Config.fromJson(j));
        assertThrows(IllegalArgumentException.class, () -> new Ia3Config(TargetModules.of("key"), List.of("value"), null,
                null, true), "feedforward_modules must be a subset of target_modules");
        assertThrows(IllegalArgumentException.class, () -> Ia3Config.fromJson(
                ((com.fasterxml.jackson.databind.node.ObjectNode) j.deepCopy()).put("fan_in_fan_out", true)));
    }
}
