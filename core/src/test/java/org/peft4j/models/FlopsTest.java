package org.peft4j.models;

import org.junit.jupiter.api.Test;
import org.peft4j.models.sam.SamConfig;
import org.peft4j.models.vit.VitPresets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The FLOP model against published counts and hand-computed cases. */
class FlopsTest {

    @Test
    void vitBase16MatchesThePublishedCount() {
        // ViT-B/16 at 224²: 17.56 G multiply-adds per image (fvcore, as timm and the DeiT paper report it)
        assertEquals(2 * 17.56e9, Flops.vit(VitPresets.get("vit-b16-224"), 1), 0.01 * 2 * 17.56e9);
        assertEquals(8 * Flops.vit(VitPresets.get("vit-b16-224"), 1), Flops.vit(VitPresets.get("vit-b16-224"), 8), 1);
    }

    @Test
    void aBlockIsItsProjectionsMlpAndAttentionProducts() {
        // 3 tokens, width 2, MLP 4: 2·3·(4·4 + 2·2·4) projections + MLP, 2·2·9·2 attention
        assertEquals(2 * 3 * (16 + 16) + 2 * 2 * 9 * 2, Flops.block(3, 2, 4), 0);
        assertEquals(3 * 100.0, Flops.trainStep(100, true));
        assertEquals(2 * 100.0, Flops.trainStep(100, false));
    }

    @Test
    void samWindowsCostLessThanGlobalAttention() {
        var b = SamConfig.preset("sam-vit-b").encoder();
        double windowed = Flops.samEncoder(b, 1);
        // about 0.49 T multiply-adds for SAM's ViT-B encoder at 1024² (the SAM paper's appendix: ~0.5 T)
        assertTrue(windowed > 0.85e12 && windowed < 1.1e12, "SAM ViT-B encoder " + windowed);
        var allGlobal = new org.peft4j.models.sam.SamEncoderConfig(b.imgSize(), b.patchSize(), b.inChans(), b.embedDim(), b.depth(),
                b.numHeads(), b.mlpRatio(), b.outChans(), b.qkvBias(), b.useAbsPos(), b.useRelPos(), b.windowSize(),
                java.util.stream.IntStream.range(0, b.depth()).boxed().toList(), b.layerNormEps());
        assertTrue(Flops.samEncoder(allGlobal, 1) > 1.3 * windowed, "global attention over 4,096 tokens costs more");
    }
}
