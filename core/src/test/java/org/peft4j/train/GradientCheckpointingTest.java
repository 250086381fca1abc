package org.peft4j.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import org.junit.jupiter.api.Test;
import org.peft4j.Fixtures;
import org.peft4j.ManagedTest;
import org.peft4j.models.vit.VitCheckpoint;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.peft.PeftModel;
import org.peft4j.tuners.TargetModules;
import org.peft4j.tuners.lora.LoraConfig;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Recomputing each block in the backward pass gives the gradients of one ordinary backward pass. */
class GradientCheckpointingTest extends ManagedTest {

    private Map<String, float[]> gradients(boolean checkpointed, boolean full) throws Exception {
        VitForImageClassification vit = VitCheckpoint.load(Fixtures.vitTiny("hf"), manager);
        Map<String, Parameter> trainable;
        Engine.getInstance().setRandomSeed(4);
        if (full) {
            vit.setTrainable(true);
            trainable = vit.namedParameters();
        } else {
            PeftModel peft = new PeftModel(vit, vit.headPath(), manager);
            peft.addAdapter("a", LoraConfig.of(4, 8, TargetModules.of("query", "value")).withModulesToSave(List.of("classifier"))
                    .withInit(LoraConfig.Init.RANDOM));
            trainable = peft.trainableParameters();
        }
        NDArray x = manager.randomNormal(new Shape(3, 3, 16, 16));
        int[] labels = {0, 2, 1};
        double loss = checkpointed ? Trainer.checkpointedBackward(vit, x, labels, 0.5) : Trainer.backward(vit, x, labels, 0.5);
        assertTrue(Double.isFinite(loss) && loss > 0, "loss " + loss);
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> e : trainable.entrySet()) {
            out.put(e.getKey(), e.getValue().getArray().getGradient().toFloatArray());
        }
        out.put("loss", new float[] {(float) loss});
        return out;
    }

    @Test
    void sameGradientsForLoraAndFullFineTuning() throws Exception {
        for (boolean full : new boolean[] {false, true}) {
            Map<String, float[]> plain = gradients(false, full);
            Map<String, float[]> checkpointed = gradients(true, full);
            assertEquals(plain.keySet(), checkpointed.keySet());
            List<String> nonZero = new ArrayList<>();
            for (String k : plain.keySet()) {
                org.junit.jupiter.api.Assertions.assertTrue(Fixtures.maxAbsDiff(plain.get(k), checkpointed.get(k)) <= 1e-5, k + " full=" + full + " diff " + Fixtures.maxAbsDiff(plain.get(k), checkpointed.get(k)));
                if (Fixtures.maxAbsDiff(plain.get(k), new float[plain.get(k).length]) > 1e-6) {
                    nonZero.add(k);
                }
            }
            assertTrue(nonZero.size() > plain.size() / 2, "most gradients are not zero: " + nonZero);
        }
    }
}
