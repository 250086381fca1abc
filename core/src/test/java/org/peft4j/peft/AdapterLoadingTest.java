package org.peft4j.peft;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDScope;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.Fixtures;
import org.peft4j.ManagedTest;
import org.peft4j.io.SafetensorsReader;
import org.peft4j.io.SafetensorsWriter;
import org.peft4j.models.vit.VitCheckpoint;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.tuners.AdapterMismatchException;
import org.peft4j.tuners.TargetModules;
import org.peft4j.tuners.lora.LoraConfig;
import org.peft4j.tuners.vpt.VptConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Loading is all or nothing: a bad file leaves the base model and the loaded adapters exactly as they were. */
class AdapterLoadingTest extends ManagedTest {

    @BeforeEach
    void seed() {
        Engine.getInstance().setRandomSeed(31);
    }

    private VitForImageClassification vit() throws IOException {
        return VitCheckpoint.load(Fixtures.vitTiny("hf"), manager);
    }

    private static Map<String, float[]> snapshot(VitForImageClassification vit) {
        Map<String, float[]> out = new LinkedHashMap<>();
        vit.namedParameters().forEach((k, p) -> out.put(k, p.getArray().toFloatArray()));
        return out;
    }

    private float[] logits(VitForImageClassification vit) throws IOException {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            return vit.forward(Fixtures.input("pixel_values", manager), false).toFloatArray();
        }
    }

    /** A bias="all" LoRA whose biases differ from the base's, and whose last tensor (the head) has a wrong shape. */
    private Path brokenBiasAllAdapter(Path dir) throws IOException {
        VitForImageClassification donor = vit();
        PeftModel peft = new PeftModel(donor, donor.headPath(), manager);
        LoraConfig c = new LoraConfig(2, 4, 0, TargetModules.of("query", "value"), false, null, null,
                LoraConfig.Bias.ALL, List.of("classifier"), LoraConfig.Init.RANDOM, null, null);
        peft.addAdapter("b", c);
        peft.save(dir, "b");
        Path file = dir.resolve(PeftModel.WEIGHTS_FILE);
        SafetensorsWriter w = new SafetensorsWriter();
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            for (String k : r.names()) {
                float[] v = r.readFloats(k);
                long[] shape = r.info(k).shape();
                if (k.endsWith("classifier.weight")) {
                    w.add(k, new float[4 * 32], 4, 32); // the model's head is [5, 32]
                } else {
                    if (k.endsWith("bias")) {
                        for (int i = 0; i < v.length; i++) {
                            v[i] += 1f;
                        }
                    }
                    w.add(k, v, shape);
                }
            }
        }
        Files.delete(file);
        w.write(file);
        return dir;
    }

    @Test
    void aFailedLoadChangesNothing(@TempDir Path tmp) throws IOException {
        VitForImageClassification vit = vit();
        PeftModel peft = new PeftModel(vit, vit.headPath(), manager);
        peft.addAdapter("a", new LoraConfig(2, 4, 0, TargetModules.of("query"), false, null, null,
                LoraConfig.Bias.NONE, null, LoraConfig.Init.RANDOM, null, null));
        peft.merge(true, "a");
        Map<String, float[]> before = snapshot(vit);
        float[] logitsBefore = logits(vit);
        Path broken = brokenBiasAllAdapter(tmp.resolve("broken"));

        AdapterMismatchException e = assertThrows(AdapterMismatchException.class, () -> peft.load(broken, "b"));
        assertTrue(e.getMessage().contains("classifier.weight") && e.getMessage().contains(PeftModel.WEIGHTS_FILE),
                e.getMessage());
        Map<String, float[]> after = snapshot(vit);
        assertEquals(before.keySet(), after.keySet());
        before.forEach((k, v) -> assertArrayEquals(v, after.get(k), k + " (biases included) is untouched"));
        assertEquals(Set.of("a"), peft.adapterNames());
        assertEquals(List.of("a"), peft.activeAdapters());
        assertArrayEquals(logitsBefore, logits(vit), "adapter a is still merged and active");
    }

    @Test
    void anAdapterOfAnotherMethodOrShapeIsRefusedNamingTheFile(@TempDir Path tmp) throws IOException {
        VitForImageClassification vit = vit();
        PeftModel donor = new PeftModel(vit, vit.headPath(), manager);
        donor.addAdapter("v", new VptConfig(3, true, 0, null, List.of("classifier")));
        donor.save(tmp.resolve("vpt"), "v");
        // The same folder with another method's config: the tensors do not fit.
        Files.writeString(tmp.resolve("vpt").resolve(PeftModel.CONFIG_FILE),
                "{\"peft_type\": \"LORA\", \"r\": 2, \"target_modules\": [\"query\"], \"modules_to_save\": [\"classifier\"]}");
        VitForImageClassification fresh = vit();
        PeftModel peft = new PeftModel(fresh, fresh.headPath(), manager);
        AdapterMismatchException e = assertThrows(AdapterMismatchException.class, () -> peft.load(tmp.resolve("vpt"), "x"));
        assertTrue(e.getMessage().contains("vpt_prompt") && e.getMessage().contains("lora_A"), e.getMessage());

        Files.writeString(tmp.resolve("vpt").resolve(PeftModel.CONFIG_FILE), "{\"peft_type\": \"NOPE\"}");
        e = assertThrows(AdapterMismatchException.class, () -> peft.load(tmp.resolve("vpt"), "x"));
        assertTrue(e.getMessage().contains(PeftModel.CONFIG_FILE) && e.getMessage().contains("NOPE"), e.getMessage());
        assertTrue(peft.adapterNames().isEmpty());
    }
}
