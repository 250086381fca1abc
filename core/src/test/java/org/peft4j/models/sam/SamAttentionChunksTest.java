package org.peft4j.models.sam;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.peft4j.ManagedTest;
import org.peft4j.nn.ForwardContext;
import org.peft4j.peft.PeftModel;
import org.peft4j.tuners.prefix.PrefixConfig;

import static org.peft4j.Fixtures.assertClose;

/** Inference makes large score maps a few heads at a time; the result is the one-shot attention's. */
class SamAttentionChunksTest extends ManagedTest {

    @Test
    void chunkedInferenceEqualsTheWholeMapWithPrefixesToo() {
        Engine.getInstance().setRandomSeed(9);
        SamImageEncoder encoder = new SamImageEncoder(SamConfig.preset("sam-tiny").encoder());
        encoder.initialize(manager);
        new PeftModel(encoder, "", manager).addAdapter("p", new PrefixConfig(3, 0, 0.5, null, null));
        NDArray x = manager.randomNormal(new Shape(2, 3, 64, 64));
        float[] whole = encoder.forward(x, ForwardContext.TRAINING).toFloatArray(); // training never chunks
        long saved = SamAttention.inferenceMapBytes;
        try {
            SamAttention.inferenceMapBytes = 3L * 4 * 64 * 64; // three rows of (batch · heads) per chunk
            assertClose(whole, encoder.forward(x, ForwardContext.INFERENCE).toFloatArray(), 1e-5f);
        } finally {
            SamAttention.inferenceMapBytes = saved;
        }
    }
}
