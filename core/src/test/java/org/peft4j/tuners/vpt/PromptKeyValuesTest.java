package org.peft4j.tuners.vpt;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import org.junit.jupiter.api.Test;
import org.peft4j.Fixtures;
import org.peft4j.ManagedTest;
import org.peft4j.models.sam.SamConfig;
import org.peft4j.models.sam.SamImageEncoder;
import org.peft4j.models.vit.VitCheckpoint;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.HookedBlock;
import org.peft4j.peft.PeftModel;
import org.peft4j.tuners.Blocks;
import org.peft4j.tuners.Injection;

import java.io.IOException;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.peft4j.Fixtures.assertClose;

/**
 * Deep prompts as keys and values equal VPT-deep's prompt tokens on everything but the prompt
 * positions, so a ViT's logits agree; on SAM's grid that is the route deep prompts take.
 */
class PromptKeyValuesTest extends ManagedTest {

    @Test
    void keyValuePromptsGiveVptDeepsLogitsOnAViT() throws IOException {
        Engine.getInstance().setRandomSeed(3);
        VitForImageClassification vit = VitCheckpoint.load(Fixtures.vitTiny("hf"), manager);
        NDArray x = Fixtures.input("pixel_values", manager);
        VptConfig config = new VptConfig(3, true, 0.0, null, null);
        PeftModel peft = new PeftModel(vit, vit.headPath(), manager);
        peft.addAdapter("tokens", config);
        float[] viaTokens = vit.forward(x, ForwardContext.INFERENCE).toFloatArray();
        peft.disableAdapters();
        // the same prompts, placed as key/value prompts on the same blocks
        Map<String, HookedBlock> blocks = Blocks.select(vit, null);
        Injection injection = new Injection();
        for (Injection.Placement<?> pl : peft.placements("tokens")) {
            PromptTokens tokens = (PromptTokens) pl.hook();
            HookedBlock block = blocks.get(pl.path());
            PromptKeyValues kv = new PromptKeyValues(block, config);
            injection.place(pl.path(), block.blockHooks().keyValues(), kv);
            kv.parameters().get("vpt_prompt").initialize(manager, ai.djl.ndarray.types.DataType.FLOAT32);
            kv.parameters().get("vpt_prompt").getArray().set(tokens.parameters().get("vpt_prompt").getArray().toFloatArray());
        }
        for (Injection.Placement<?> pl : injection.placements()) {
            add(pl);
            pl.slot().setActive(java.util.List.of("kv"));
        }
        float[] viaKeyValues = vit.forward(x, ForwardContext.INFERENCE).toFloatArray();
        assertClose(viaTokens, viaKeyValues, 2e-5f);
    }

    private static <H extends org.peft4j.nn.Hook> void add(Injection.Placement<H> pl) {
        pl.slot().add("kv", pl.hook());
    }

    @Test
    void samTakesDeepPromptsAsKeyValuesAndRefusesShallowOnes() {
        SamImageEncoder encoder = new SamImageEncoder(SamConfig.preset("sam-tiny").encoder());
        encoder.initialize(manager);
        PeftModel peft = new PeftModel(encoder, "", manager);
        peft.addAdapter("deep", new VptConfig(4, true, 0.0, null, null));
        assertTrue(peft.placements("deep").stream().allMatch(pl -> pl.hook() instanceof PromptKeyValues));
        NDArray x = manager.randomNormal(new ai.djl.ndarray.types.Shape(1, 3, 64, 64));
        float[] with = encoder.forward(x, ForwardContext.INFERENCE).toFloatArray();
        peft.disableAdapters();
        float[] without = encoder.forward(x, ForwardContext.INFERENCE).toFloatArray();
        double diff = 0;
        for (int i = 0; i < with.length; i++) {
            diff += Math.abs(with[i] - without[i]);
        }
        assertTrue(diff > 1e-3, "the prompts change nothing");
        assertThrows(IllegalArgumentException.class,
                () -> peft.addAdapter("shallow", new VptConfig(4, false, 0.0, null, null)));
    }
}
