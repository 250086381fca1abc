package org.peft4j.tuners.routing;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import org.junit.jupiter.api.Test;
import org.peft4j.ManagedTest;
import org.peft4j.models.text.Gpt2Model;
import org.peft4j.models.text.TextConfig;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.models.vit.VitPresets;
import org.peft4j.models.vl.VisionLanguageModel;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.Module;
import org.peft4j.nn.VisualInputs;
import org.peft4j.peft.PeftModel;
import org.peft4j.tuners.TargetModules;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The four routing functions on hand-computed cases, the parameter counts, the file round trip, and no merging. */
class RoutingTest extends ManagedTest {

    /** x_H = [1, 2], x_R = [3, 4], A = B = I (r = 2), s = 1, W0 = 0, b0 = 0: y is R(x_t, x_v) itself. */
    private float[] routedLora(Routing routing) {
        LinearLayer layer = new LinearLayer(2, 2, true);
        layer.initialize(manager);
        layer.weight().getArray().set(new float[] {0, 0, 0, 0});
        layer.bias().getArray().set(new float[] {0, 0});
        RoutedLora lora = new RoutedLora(layer, routing, 2, 2.0, 0.0, null);
        lora.initialize(manager);
        lora.parameters().get("lora_A.weight").getArray().set(new float[] {1, 0, 0, 1});
        lora.parameters().get("lora_B.weight").getArray().set(new float[] {1, 0, 0, 1});
        ForwardContext ctx = ForwardContext.INFERENCE.with(VisualInputs.FEATURE, manager.create(new float[] {3, 4}, new Shape(1, 1, 2)));
        NDArray x = manager.create(new float[] {1, 2}, new Shape(1, 1, 2));
        NDArray base = manager.zeros(new Shape(1, 1, 2));
        return lora.adaptOutput(x, base, base, ctx).toFloatArray();
    }

    @Test
    void loraRoutingsByHand() {
        assertArrayEquals(new float[] {1, 2}, routedLora(Routing.NONE));
        assertArrayEquals(new float[] {4, 6}, routedLora(Routing.ADD));          // x_t + x_v
        assertArrayEquals(new float[] {3, 8}, routedLora(Routing.MUL));          // x_t ⊙ x_v
        assertArrayEquals(new float[] {9, 12}, routedLora(Routing.MUL_EXPAND));  // (1 + 2)·[3, 4]
        assertArrayEquals(new float[] {33, 44}, routedLora(Routing.VL));         // (1·3 + 2·4)·[3, 4]
    }

    @Test
    void adapterRoutingsByHand() {
        // Down = I, b_d = [0, -5], Up = I, b_u = 0, ReLU; h = [1, 2], x_R = [3, 4]:
        // z_t = [1, -3], z_v = [3, -1]; h' = h + relu(R(z_t, z_v))
        float[][] expected = {
            {1 + 1, 2 + 0},           // none: relu([1, -3])
            {1 + 4, 2 + 0},           // add: relu([4, -4])
            {1 + 3, 2 + 3},           // mul: relu([3, 3])
            {1 + 0, 2 + 2},           // mul_expand: (1 − 3)·[3, −1] = [−6, 2]
            {1 + 18, 2 + 0},          // vl: (1·3 + (−3)(−1))·[3, −1] = [18, −6]
        };
        Routing[] order = {Routing.NONE, Routing.ADD, Routing.MUL, Routing.MUL_EXPAND, Routing.VL};
        for (int i = 0; i < order.length; i++) {
            RoutedAdapter a = new RoutedAdapter("adapter_mlp", 2, 2, order[i], false);
            a.initialize(manager);
            Map<String, Parameter> p = a.parameters();
            p.get("adapter_mlp.down.weight").getArray().set(new float[] {1, 0, 0, 1});
            p.get("adapter_mlp.down.bias").getArray().set(new float[] {0, -5});
            p.get("adapter_mlp.up.weight").getArray().set(new float[] {1, 0, 0, 1});
            ForwardContext ctx = ForwardContext.INFERENCE.with(VisualInputs.FEATURE, manager.create(new float[] {3, 4}, new Shape(1, 1, 2)));
            NDArray h = manager.create(new float[] {1, 2}, new Shape(1, 1, 2));
            assertArrayEquals(expected[i], a.apply(h, h, ctx).toFloatArray(), order[i].configName);
        }
    }

    private VisionLanguageModel tinyVl(int answers) {
        Engine.getInstance().setRandomSeed(3);
        VitForImageClassification vit = new VitForImageClassification(VitPresets.get("vit-tiny-test"));
        vit.initialize(manager);
        Gpt2Model gpt2 = new Gpt2Model(TextConfig.gpt2(40, 32, 2, 4, 16));
        gpt2.initialize(manager);
        VisionLanguageModel vlm = new VisionLanguageModel(vit, gpt2, answers);
        vlm.initializeNew(manager);
        return vlm;
    }

    private static RoutingConfig lora(Routing routing) {
        return new RoutingConfig(RoutingConfig.Method.LORA, routing, 4, 4, 0, TargetModules.regex("text\\..*\\.attn\\.c_attn"),
                List.of(true, false, true), 8, "relu", List.of(VisionLanguageModel.POOLER));
    }

    @Test
    void trainableCountsEqualTheUnroutedMethod() {
        long none = 0;
        for (Routing r : Routing.values()) {
            PeftModel peft = new PeftModel(tinyVl(0), null, manager);
            peft.addAdapter("a", lora(r));
            long count = peft.counts().trainable();
            if (r == Routing.NONE) {
                none = count;
            }
            assertEquals(none, count, r.configName);
        }
        // per block: q and v slices each r·d (A) + d·r (B) = 4·r·d; plus the pooler 32·32 + 32
        assertEquals(2 * 4L * 4 * 32 + 32 * 32 + 32, none);
        // the same as a PEFT LoRA on separate query and value projections of that width
        long adapter = 0;
        for (Routing r : List.of(Routing.NONE, Routing.VL)) {
            PeftModel peft = new PeftModel(tinyVl(0), null, manager);
            peft.addAdapter("a", new RoutingConfig(RoutingConfig.Method.ADAPTER, r, 0, 0, 0, null, null, 8, "relu", List.of()));
            adapter = adapter == 0 ? peft.counts().trainable() : adapter;
            assertEquals(adapter, peft.counts().trainable());
        }
        assertEquals(2 * 2 * (8 * 32 + 8 + 32 * 8 + 32), adapter); // 2 blocks × 2 adapters
    }

    @Test
    void routedLoraFollowsTheImageAndSavesItsRouting() throws Exception {
        VisionLanguageModel vlm = tinyVl(0);
        PeftModel peft = new PeftModel(vlm, null, manager);
        peft.addAdapter(PeftModel.DEFAULT_ADAPTER, lora(Routing.VL));
        for (Parameter p : peft.trainableParameters().values()) { // B starts at zero: make the update visible
            p.getArray().set(manager.randomNormal(p.getArray().getShape()).mul(0.3f).toFloatArray());
        }
        NDArray ids = manager.create(new long[] {2, 5, 7, 9}, new Shape(1, 4));
        NDArray imgA = vlm.visualTokens(manager.randomNormal(new Shape(1, 3, 16, 16)));
        NDArray imgB = vlm.visualTokens(manager.randomNormal(new Shape(1, 3, 16, 16)));
        float[] a = vlm.encode(ids, null, vlm.withVisualInputs(imgA, ForwardContext.INFERENCE)).toFloatArray();
        float[] b = vlm.encode(ids, null, vlm.withVisualInputs(imgB, ForwardContext.INFERENCE)).toFloatArray();
        assertTrue(org.peft4j.Fixtures.maxAbsDiff(a, b) > 1e-3, "the image changes the text path");

        Path dir = Files.createTempDirectory("routed");
        peft.save(dir, PeftModel.DEFAULT_ADAPTER);
        String config = Files.readString(dir.resolve("adapter_config.json"));
        assertTrue(config.contains("\"routing\": \"vl\"") && config.contains("\"peft_type\": \"LORA\""), config);
        PeftModel back = peft;
        back.deleteAdapter(PeftModel.DEFAULT_ADAPTER);
        back.load(dir, "loaded");
        float[] again = vlm.encode(ids, null, vlm.withVisualInputs(imgA, ForwardContext.INFERENCE)).toFloatArray();
        org.peft4j.Fixtures.assertClose(a, again, 1e-6f);

        IllegalStateException e = assertThrows(IllegalStateException.class, () -> back.merge(false, "loaded"));
        assertTrue(e.getMessage().contains("cannot be merged"), e.getMessage());
    }

    @Test
    void aRoutedTunerNeedsTheImage() {
        PeftModel peft = new PeftModel(tinyVl(0), null, manager);
        peft.addAdapter("a", lora(Routing.ADD));
        Module text = (Module) ((VisionLanguageModel) peft.base()).text();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> text.forward(manager.create(new long[] {1, 2}, new Shape(1, 2)), ForwardContext.INFERENCE));
        assertTrue(e.getMessage().contains("vision-language"), e.getMessage());
        // and a plain text model has no place for it
        Gpt2Model gpt2 = new Gpt2Model(TextConfig.gpt2(40, 32, 1, 4, 16));
        IllegalArgumentException notVl = assertThrows(IllegalArgumentException.class,
                () -> new PeftModel(gpt2, null, manager).addAdapter("a", new RoutingConfig(RoutingConfig.Method.LORA, Routing.VL, 4,
                        4, 0, TargetModules.of("c_attn"), null, 8, "relu", List.of())));
        assertTrue(notVl.getMessage().contains("vision-language"), notVl.getMessage());
    }

    @Test
    void crossAttentionStartsAsTheIdentity() {
        VisionLanguageModel vlm = tinyVl(0);
        NDArray ids = manager.create(new long[] {2, 5, 7}, new Shape(1, 3));
        NDArray img = vlm.visualTokens(manager.randomNormal(new Shape(1, 3, 16, 16)));
        float[] before = vlm.encode(ids, null, vlm.withVisualInputs(img, ForwardContext.INFERENCE)).toFloatArray();
        PeftModel peft = new PeftModel(vlm, null, manager);
        peft.addAdapter("x", new RoutingConfig(RoutingConfig.Method.CROSS_ATTN, Routing.NONE, 4, 0, 0, null, null, 0, "relu", List.of()));
        float[] after = vlm.encode(ids, null, vlm.withVisualInputs(img, ForwardContext.INFERENCE)).toFloatArray();
        org.peft4j.Fixtures.assertClose(before, after, 0f);
        // per block q [r, d] + k, v [r, d_v] + o [d, r] + gate: 4·4·32 + 1
        assertEquals(2 * (4 * 4 * 32 + 1), peft.counts().trainable());
    }
}
