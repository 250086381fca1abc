package org.peft4j.peft;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import org.junit.jupiter.api.Test;
import org.peft4j.Fixtures;
import org.peft4j.ManagedTest;
import org.peft4j.models.vit.VitCheckpoint;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.tuners.TargetModules;
import org.peft4j.tuners.ia3.Ia3Config;
import org.peft4j.tuners.lora.LoraConfig;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A mixed-adapter batch gives every row what its adapter alone gives it, heads included. */
class MixedBatchTest extends ManagedTest {

    private PeftModel peft;

    private void setUpAdapters() throws Exception {
        Engine.getInstance().setRandomSeed(11);
        VitForImageClassification vit = VitCheckpoint.load(Fixtures.vitTiny("hf"), manager);
        peft = new PeftModel(vit, vit.headPath(), manager);
        peft.addAdapter("a", LoraConfig.of(4, 8, TargetModules.of("query", "value")).withModulesToSave(List.of("classifier")));
        peft.addAdapter("b", LoraConfig.of(2, 4, TargetModules.of("query", "value", "dense")).withModulesToSave(List.of("classifier"))
                .withDora(true));
        for (String name : List.of("a", "b")) {
            peft.setActiveAdapters(name);
            for (Parameter p : peft.trainableParameters().values()) { // B starts at zero: make each adapter differ
                p.getArray().set(manager.randomNormal(p.getArray().getShape()).mul(0.2f).toFloatArray());
            }
        }
    }

    private float[] alone(String adapter, NDArray x) {
        if (adapter == null) {
            peft.disableAdapters();
        } else {
            peft.setActiveAdapters(adapter);
        }
        return peft.forward(x, false).toFloatArray();
    }

    @Test
    void everyRowGetsItsAdapter() throws Exception {
        setUpAdapters();
        List<String> names = Arrays.asList("b", "a", null, "a", "b", null);
        NDArray x = manager.randomNormal(new Shape(names.size(), 3, 16, 16));
        peft.setActiveAdapters("a");
        float[] mixed = peft.forwardMixed(x, names).toFloatArray();
        assertEquals(List.of("a"), peft.activeAdapters(), "the active adapters are restored");
        int labels = mixed.length / names.size();
        for (int i = 0; i < names.size(); i++) {
            float[] expected = alone(names.get(i), x.get(i + ":" + (i + 1)));
            Fixtures.assertClose(expected, Arrays.copyOfRange(mixed, i * labels, (i + 1) * labels), 1e-5f);
        }
        // and the rows do differ between adapters, so the check means something
        assertTrue(Fixtures.maxAbsDiff(alone("a", x.get("0:1")), alone("b", x.get("0:1"))) > 1e-3);
    }

    @Test
    void onlyLoraFamilyAndKnownAdapters() throws Exception {
        setUpAdapters();
        NDArray x = manager.randomNormal(new Shape(2, 3, 16, 16));
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> peft.forwardMixed(x, List.of("a", "zzz")));
        assertTrue(unknown.getMessage().contains("no adapter 'zzz'"), unknown.getMessage());
        peft.addAdapter("ia3", Ia3Config.fromJson(org.peft4j.io.Json.MAPPER.readTree(
                "{\"peft_type\":\"IA3\",\"target_modules\":[\"key\",\"value\",\"output.dense\"],\"feedforward_modules\":[\"output.dense\"]}")));
        IllegalArgumentException ia3 = assertThrows(IllegalArgumentException.class, () -> peft.forwardMixed(x, List.of("a", "ia3")));
        assertTrue(ia3.getMessage().contains("cannot share a mixed batch"), ia3.getMessage());
        assertThrows(IllegalArgumentException.class, () -> peft.forwardMixed(x, List.of("a")));
    }
}
