package org.peft4j.merge;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.peft4j.Fixtures;
import org.peft4j.ManagedTest;
import org.peft4j.data.ImageDataset;
import org.peft4j.data.RawImage;
import org.peft4j.models.MultiHeadClassifier;
import org.peft4j.models.vit.VitCheckpoint;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.nn.ForwardContext;
import org.peft4j.peft.PeftModel;
import org.peft4j.train.FineTuning;
import org.peft4j.tuners.TargetModules;
import org.peft4j.tuners.lora.LoraConfig;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.peft4j.Fixtures.assertClose;

/** The multi-head model (one backbone pass, every head) and AdaMerging's learned coefficients. */
class MultiTaskTest extends ManagedTest {

    private VitForImageClassification vit;

    @BeforeEach
    void open() throws IOException {
        Engine.getInstance().setRandomSeed(3);
        vit = VitCheckpoint.load(Fixtures.vitTiny("hf"), manager);
    }

    private float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    private MultiHeadClassifier twoHeads() {
        MultiHeadClassifier m = new MultiHeadClassifier(vit);
        int d = (int) vit.featureSize();
        m.addHead("three", random(3 * d, 1), random(3, 2), List.of("a", "b", "c"), manager);
        m.addHead("two", random(2 * d, 3), null, List.of("x", "y"), manager);
        return m;
    }

    @Test
    void everyHeadSeesTheSameFeaturesAndRoutedRowsGetTheirOwnHead() {
        MultiHeadClassifier m = twoHeads();
        NDArray x = manager.create(random(4 * 3 * 16 * 16, 9), new Shape(4, 3, 16, 16));
        Map<String, NDArray> all = m.forward(x, ForwardContext.INFERENCE);
        assertEquals(new Shape(4, 3), all.get("three").getShape());
        assertEquals(new Shape(4, 2), all.get("two").getShape());
        NDArray f = vit.features(x, ForwardContext.INFERENCE);
        MultiHeadClassifier.Head h = m.heads().get("three");
        assertClose(f.matMul(h.weight().transpose()).add(h.bias()).toFloatArray(), all.get("three").toFloatArray(), 1e-5f);
        Map<String, NDArray> routed = m.forwardRouted(x, new int[] {1, 0, 1, 1}, ForwardContext.INFERENCE);
        assertClose(all.get("three").get("1:2").toFloatArray(), routed.get("three").toFloatArray(), 1e-5f);
        assertClose(all.get("two").get(manager.create(new long[] {0, 2, 3})).toFloatArray(),
                routed.get("two").toFloatArray(), 1e-5f);
    }

    /** Random 16x16 RGB images (labels unused: AdaMerging reads none). */
    private record Noise(String name, int size, long seed) implements ImageDataset {
        @Override
        public List<String> classes() {
            return List.of("a", "b", "c");
        }

        @Override
        public int label(int index) {
            return 0;
        }

        @Override
        public RawImage image(int index) {
            byte[] px = new byte[16 * 16 * 3];
            new Random(seed * 31 + index).nextBytes(px);
            return new RawImage(16, 16, 3, px);
        }
    }

    @Test
    void adaMergingLowersTheEntropyAndLeavesTheModelAsItWas() {
        PeftModel peft = new PeftModel(vit, vit.headPath(), manager);
        for (String n : List.of("three", "two")) {
            peft.addAdapter(n, new LoraConfig(2, 8, 0, TargetModules.of("query", "value"), false, null, null,
                    LoraConfig.Bias.NONE, null, LoraConfig.Init.RANDOM, null, null));
        }
        peft.setActiveAdapters("three");
        NDArray x = manager.create(random(2 * 3 * 16 * 16, 5), new Shape(2, 3, 16, 16));
        float[] before = vit.forward(x, ForwardContext.INFERENCE).toFloatArray();
        Map<String, ImageDataset> images = Map.of("three", new Noise("n3", 40, 1), "two", new Noise("n2", 40, 2));
        AdaMerging.Settings s = new AdaMerging.Settings(true, 15, 0.05, 8, 0.3f, 0);
        AdaMerging.Coefficients c = AdaMerging.learn(peft, List.of("three", "two"), twoHeads(), images,
                FineTuning.transformFor(vit), s, manager, false);
        assertEquals(List.of("block 0", "block 1"), c.groups(), "layer-wise: one group per block");
        assertTrue(c.entropy().get(c.entropy().size() - 1) < c.entropy().get(0), c.entropy().toString());
        assertNotEquals(0.3f, c.values()[0][0]);
        assertEquals(List.of("three"), peft.activeAdapters());
        assertClose(before, vit.forward(x, ForwardContext.INFERENCE).toFloatArray(), 0f);
        AdaMerging.Coefficients again = AdaMerging.learn(peft, List.of("three", "two"), twoHeads(), images,
                FineTuning.transformFor(vit), s, manager, false);
        assertClose(c.values()[1], again.values()[1], 1e-6f);
    }
}
