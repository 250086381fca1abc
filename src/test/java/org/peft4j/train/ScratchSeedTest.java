package org.peft4j.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import org.junit.jupiter.api.Test;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.models.vit.VitPresets;
import org.peft4j.peft.PeftModel;
import org.peft4j.peft.TargetModules;
import org.peft4j.tuners.lora.LoraConfig;
import java.util.*;

class ScratchSeedTest {
    @Test
    void seed() throws Exception {
        Engine.getInstance();
        if (System.getenv("ONE") != null) JniUtils.setNumThreads(1);
        List<Map<String, float[]>> inits = new ArrayList<>();
        List<Map<String, float[]>> finals = new ArrayList<>();
        try (NDManager manager = NDManager.newBaseManager()) {
            for (int run = 0; run < 3; run++) {
                Engine.getInstance().setRandomSeed(3);
                VitForImageClassification vit = new VitForImageClassification(VitPresets.get("vit-tiny-test").withLabels(ShapesDataset.CLASSES));
                vit.initialize(manager);
                PeftModel peft = new PeftModel(vit, vit.headPath(), manager);
                peft.addAdapter("default", LoraConfig.of(4, 8, TargetModules.of("query", "value")).withModulesToSave(List.of("classifier")));
                LinkedHashMap<String, Parameter> all = new LinkedHashMap<>(vit.namedParameters());
                all.putAll(peft.trainableParameters());
                Map<String, float[]> v = new LinkedHashMap<>();
                all.forEach((k, p) -> v.put(k, p.getArray().toFloatArray()));
                inits.add(v);
                TrainConfig c = new TrainConfig(2, 4, 1e-2, 0.01, 0.1, 1, 1.0, 7, 1, false);
                new Trainer(c, vit, peft.trainableParameters(), manager).showProgress(false)
                    .fit(new ShapesDataset("t", 12, 4), new ShapesDataset("v", 6, 5), FineTuning.transformFor(vit));
                Map<String, float[]> f = new LinkedHashMap<>();
                peft.trainableParameters().forEach((k, p) -> f.put(k, p.getArray().toFloatArray()));
                finals.add(f);
            }
        }
        for (int run = 1; run < 3; run++) {
            for (String k : inits.get(0).keySet()) {
                if (!Arrays.equals(inits.get(0).get(k), inits.get(run).get(k))) System.out.println("run " + run + " init differs: " + k);
            }
            for (String k : finals.get(0).keySet()) {
                if (!Arrays.equals(finals.get(0).get(k), finals.get(run).get(k))) System.out.println("run " + run + " final differs: " + k);
            }
        }
        System.out.println("done");
    }
}
