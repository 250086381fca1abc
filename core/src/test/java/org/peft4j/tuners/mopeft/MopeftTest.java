package org.peft4j.tuners.mopeft;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.Fixtures;
import org.peft4j.ManagedTest;
import org.peft4j.models.sam.SamConfig;
import org.peft4j.models.sam.SamImageEncoder;
import org.peft4j.models.vit.VitCheckpoint;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.LinearLayer;
import org.peft4j.peft.PeftModel;
import org.peft4j.tuners.Injection;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.peft4j.Fixtures.assertClose;

/** MoPEFT's gates and gated submodules, computed by hand, on ViT and on SAM's windowed encoder. */
class MopeftTest extends ManagedTest {

    @BeforeEach
    void seed() {
        Engine.getInstance().setRandomSeed(7);
    }

    private static MopeftConfig config(String... subs) {
        return new MopeftConfig(List.of(subs), 2, 3, 4, false, null, null);
    }

    private NDArray random(long... shape) {
        return manager.randomNormal(new Shape(shape));
    }

    @Test
    void aGateIsTheTokenMeanOfASigmoidPerExample() {
        org.peft4j.nn.BlockHooks hooks = new org.peft4j.nn.BlockHooks(0, 4, 1, 0, 12);
        BlockGates gates = new BlockGates(new org.peft4j.nn.HookedBlock() {
            @Override
            public org.peft4j.nn.BlockHooks blockHooks() {
                return hooks;
            }

            @Override
            public NDList promptKeyValues(NDArray tokens, ForwardContext ctx) {
                throw new AssertionError("no prompts here");
            }
        }, config("lora", "prefix"));
        gates.parameters().values().forEach(p -> p.initialize(manager, ai.djl.ndarray.types.DataType.FLOAT32));
        NDArray h = random(2, 3, 4);
        NDList kv = gates.prefixes(h, ForwardContext.INFERENCE);
        float[] x = h.toFloatArray();
        float[] w = gates.prefix.weight.getArray().toFloatArray();
        float c = gates.prefix.bias.getArray().getFloat();
        float[] pk = gates.parameters().get("prefix_key").getArray().toFloatArray();
        float[] got = kv.get(0).toFloatArray(); // [2, 3, 4] = g_b · P_K
        for (int b = 0; b < 2; b++) {
            double g = 0;
            for (int t = 0; t < 3; t++) {
                double z = c;
                for (int k = 0; k < 4; k++) {
                    z += x[(b * 3 + t) * 4 + k] * w[k];
                }
                g += 1 / (1 + Math.exp(-z)) / 3;
            }
            for (int i = 0; i < 12; i++) {
                assertEquals(g * pk[i], got[b * 12 + i], 1e-5, "example " + b);
            }
        }
        assertEquals(new Shape(2), gates.currentQ.getShape(), "one LoRA gate per example");
    }

    @Test
    void loraAndAdapterStartAsTheIdentityAndTheGatesReplaceTheScaling() throws IOException {
        VitForImageClassification vit = VitCheckpoint.load(Fixtures.vitTiny("hf"), manager);
        NDArray x = Fixtures.input("pixel_values", manager);
        float[] base = vit.forward(x, ForwardContext.INFERENCE).toFloatArray();
        PeftModel peft = new PeftModel(vit, vit.headPath(), manager);
        peft.addAdapter("m", config("lora", "adapter"));
        assertClose(base, vit.forward(x, ForwardContext.INFERENCE).toFloatArray(), 1e-6f);
        // a non-zero B: the query's output moves by exactly g_q · (H Aᵀ) Bᵀ
        GatedLora q = null;
        String path = null;
        for (Injection.Placement<?> pl : peft.placements("m")) {
            if (pl.hook() instanceof GatedLora l && pl.path().endsWith("layer.0.attention.attention.query")) {
                q = l;
                path = pl.path();
            }
        }
        assertNotNull(q);
        q.parameters().get("lora_B.weight").getArray().set(random(32, 2).toFloatArray());
        BlockGates gates = (BlockGates) peft.placements("m").stream().filter(pl -> pl.hook() instanceof BlockGates)
                .findFirst().orElseThrow().hook();
        NDArray h = random(2, 5, 32);
        gates.prefixes(h, ForwardContext.INFERENCE);
        LinearLayer layer = (LinearLayer) vit.namedModules().get(path);
        NDArray plain = ai.djl.nn.core.Linear.linear(h, layer.weight().getArray(), layer.bias().getArray()).singletonOrThrow();
        NDArray adapted = q.adaptOutput(h, plain, plain, ForwardContext.INFERENCE);
        NDArray delta = h.matMul(q.parameters().get("lora_A.weight").getArray().transpose())
                .matMul(q.parameters().get("lora_B.weight").getArray().transpose());
        NDArray expected = plain.add(delta.mul(gates.currentQ.reshape(2, 1, 1)));
        assertClose(expected.toFloatArray(), adapted.toFloatArray(), 1e-5f);
    }

    @Test
    void onSamsWindowedEncoderTheGatesPoolTheWholeMapAndEveryParameterLearns() {
        SamImageEncoder encoder = new SamImageEncoder(SamConfig.preset("sam-tiny").encoder());
        encoder.initialize(manager);
        PeftModel peft = new PeftModel(encoder, "", manager);
        peft.addAdapter("m", config("lora", "prefix", "adapter"));
        for (var p : peft.trainableParameters().entrySet()) {
            if (p.getKey().contains("lora_B") || p.getKey().contains("adapter.up")) {
                p.getValue().getArray().set(random(p.getValue().getArray().getShape().getShape()).mul(0.1f).toFloatArray());
            }
        }
        NDArray x = random(2, 3, 64, 64);
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray y = encoder.forward(x, ForwardContext.TRAINING);
            assertEquals(new Shape(2, 32, 8, 8), y.getShape());
            gc.backward(y.square().mean());
        }
        for (var p : peft.trainableParameters().entrySet()) {
            float g = p.getValue().getArray().getGradient().abs().sum().getFloat();
            assertTrue(g > 0, p.getKey() + " gets no gradient");
        }
        encoder.forward(x, ForwardContext.INFERENCE);
        Map<String, Map<String, Double>> summary = MopeftModel.gateSummary(peft.placements("m"));
        assertEquals(4, summary.size(), summary.toString());
        summary.values().forEach(b -> {
            assertEquals(List.of("lora_q", "lora_v", "prefix", "adapter"), List.copyOf(b.keySet()));
            b.values().forEach(v -> assertTrue(v > 0 && v < 1, b.toString()));
        });
    }

    @Test
    void visualPromptsAndTheCentralGateJoinOnSamAndTheCentralWeightsSumToOne() {
        SamImageEncoder encoder = new SamImageEncoder(SamConfig.preset("sam-tiny").encoder());
        encoder.initialize(manager);
        PeftModel peft = new PeftModel(encoder, "", manager);
        peft.addAdapter("m", new MopeftConfig(MopeftConfig.ALL_SUBMODULES, 2, 3, 4, true, null, null));
        for (var p : peft.trainableParameters().entrySet()) {
            if (p.getKey().contains("lora_B") || p.getKey().contains("adapter.up")) {
                p.getValue().getArray().set(random(p.getValue().getArray().getShape().getShape()).mul(0.1f).toFloatArray());
            }
        }
        NDArray x = random(2, 3, 64, 64);
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(encoder.forward(x, ForwardContext.TRAINING).square().mean());
        }
        for (var p : peft.trainableParameters().entrySet()) {
            assertTrue(p.getValue().getArray().getGradient().abs().sum().getFloat() > 0, p.getKey() + " gets no gradient");
        }
        encoder.forward(x, ForwardContext.INFERENCE);
        Map<String, Map<String, Double>> summary = MopeftModel.gateSummary(peft.placements("m"));
        summary.values().forEach(b -> {
            assertTrue(b.keySet().containsAll(List.of("lora_q", "prefix", "vpt", "adapter", "central_vpt")), b.toString());
            double central = b.entrySet().stream().filter(e -> e.getKey().startsWith("central_"))
                    .mapToDouble(Map.Entry::getValue).sum();
            assertEquals(1.0, central, 1e-5, b.toString());
        });
    }

    @Test
    void onAFusedQkvTheQAndVThirdsMoveByTheirGatedDeltasAndKStays() {
        SamImageEncoder encoder = new SamImageEncoder(SamConfig.preset("sam-tiny").encoder());
        encoder.initialize(manager);
        PeftModel peft = new PeftModel(encoder, "", manager);
        peft.addAdapter("m", config("lora"));
        GatedLora lora = (GatedLora) peft.placements("m").stream().filter(pl -> pl.hook() instanceof GatedLora)
                .findFirst().orElseThrow().hook();
        BlockGates gates = (BlockGates) peft.placements("m").stream().filter(pl -> pl.hook() instanceof BlockGates)
                .findFirst().orElseThrow().hook();
        for (String b : List.of("lora_B.q.weight", "lora_B.v.weight")) {
            var p = lora.parameters().get(b).getArray();
            p.set(random(p.getShape().getShape()).toFloatArray());
        }
        NDArray h = random(2, 5, 64);
        gates.prefixes(h, ForwardContext.INFERENCE);
        NDArray y = random(2, 5, 192);
        NDArray got = lora.adaptOutput(h, y, y, ForwardContext.INFERENCE);
        NDArray dq = h.matMul(lora.parameters().get("lora_A.q.weight").getArray().transpose())
                .matMul(lora.parameters().get("lora_B.q.weight").getArray().transpose()).mul(gates.currentQ.reshape(2, 1, 1));
        NDArray dv = h.matMul(lora.parameters().get("lora_A.v.weight").getArray().transpose())
                .matMul(lora.parameters().get("lora_B.v.weight").getArray().transpose()).mul(gates.currentV.reshape(2, 1, 1));
        NDArray expected = y.add(ai.djl.ndarray.NDArrays.concat(new NDList(dq, manager.zeros(new Shape(2, 5, 64)), dv), -1));
        assertClose(expected.toFloatArray(), got.toFloatArray(), 1e-5f);
    }

    @Test
    void savedAndLoadedInThePeftFolder(@TempDir Path tmp) throws IOException {
        VitForImageClassification vit = VitCheckpoint.load(Fixtures.vitTiny("hf"), manager);
        PeftModel peft = new PeftModel(vit, vit.headPath(), manager);
        peft.addAdapter("default", config("lora", "prefix", "adapter"));
        for (var p : peft.trainableParameters().values()) {
            p.getArray().set(random(p.getArray().getShape().getShape()).mul(0.1f).toFloatArray());
        }
        NDArray x = Fixtures.input("pixel_values", manager);
        float[] before = vit.forward(x, ForwardContext.INFERENCE).toFloatArray();
        peft.save(tmp, "default");
        VitForImageClassification fresh = VitCheckpoint.load(Fixtures.vitTiny("hf"), manager);
        new PeftModel(fresh, fresh.headPath(), manager).load(tmp, "default");
        assertClose(before, fresh.forward(x, ForwardContext.INFERENCE).toFloatArray(), 1e-5f);
    }
}
