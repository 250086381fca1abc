package org.peft4j.peft;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.nn.Parameter;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.peft4j.Fixtures;
import org.peft4j.ManagedTest;
import org.peft4j.models.vit.VitCheckpoint;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.nn.MergeableHook;
import org.peft4j.train.Trainer;
import org.peft4j.tuners.TunerConfig;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.peft4j.Fixtures.assertClose;

/**
 * Every method on the tiny fixture ViT (d = 32, 2 blocks, MLP 64, 5 labels, head 165 parameters):
 * the trainable count equals the method's formula, a new adapter leaves the model as it was where
 * the method starts at the identity, save → load reproduces the logits, merging (where the math
 * allows) gives the unmerged logits, and one backward pass reaches every trainable parameter.
 */
class EveryMethodTest extends ManagedTest {

    private static final int D = 32;
    private static final int LAYERS = 2;
    private static final int MLP = 64;
    private static final long HEAD = 165;
    /** Channels of every weighted layer except the head: patch 32, per block q,k,v,o 128 + norms 64 + fc1 64 + fc2 32, final norm 32. */
    private static final long CHANNELS = D + LAYERS * (4 * D + 2 * D + MLP + D) + D;

    @BeforeEach
    void seed() {
        Engine.getInstance().setRandomSeed(17);
    }

    /** method, options, trainable parameters by formula, whether a new adapter is the identity, whether it merges. */
    static Stream<Arguments> methods() {
        int r = 4;
        int m = 8;
        int p = 5;
        long loraModule = r * D + D * r;
        long bottleneck = 2L * D * m + m + D;
        return Stream.of(
                Arguments.of("lora", opts(r, null, null, null), LAYERS * 2 * loraModule, true, true),
                Arguments.of("dora", opts(r, null, null, null), LAYERS * 2 * (loraModule + D), true, true),
                Arguments.of("pissa", opts(r, null, null, null), LAYERS * 2 * loraModule, true, true),
                Arguments.of("mlae", opts(r, null, null, null), LAYERS * 2 * (loraModule + r), true, true),
                Arguments.of("adapter-houlsby", opts(null, m, null, null), LAYERS * 2 * bottleneck, true, false),
                Arguments.of("adapter-pfeiffer", opts(null, m, null, null), LAYERS * bottleneck, true, false),
                Arguments.of("adaptformer", opts(null, m, null, null), LAYERS * bottleneck, true, false),
                Arguments.of("vpt-shallow", opts(null, null, p, null), (long) p * D, false, false),
                Arguments.of("vpt-deep", opts(null, null, p, null), (long) LAYERS * p * D, false, false),
                Arguments.of("prefix", opts(null, null, p, null), (long) LAYERS * 2 * p * D, false, false),
                Arguments.of("prefix", opts(null, null, p, 16), (long) p * D + (D * 16 + 16) + (16L * 2 * LAYERS * D + 2 * LAYERS * D),
                        false, false),
                Arguments.of("bitfit", MethodOptions.DEFAULTS, CHANNELS, true, true),
                Arguments.of("ssf", MethodOptions.DEFAULTS, 2 * CHANNELS, false, true),
                // keys and values [out, 1], the MLP's second linear input-side [1, in]
                Arguments.of("ia3", MethodOptions.DEFAULTS, (long) LAYERS * (D + D + MLP), true, true));
    }

    private static MethodOptions opts(Integer rank, Integer bottleneck, Integer promptLength, Integer projection) {
        return new MethodOptions(null, rank, null, null, null, null, null, null, null, null, null, promptLength,
                projection, bottleneck, null, null, null, null, null, null);
    }

    private VitForImageClassification vit() throws IOException {
        return VitCheckpoint.load(Fixtures.vitTiny("hf"), manager);
    }

    private float[] logits(VitForImageClassification vit) throws IOException {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            return vit.forward(Fixtures.input("pixel_values", manager), false).toFloatArray();
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("methods")
    void countsSaveLoadMergeAndGradients(String method, MethodOptions options, long expectedTrainable,
                                         boolean identityAtStart, boolean mergeable, @TempDir Path tmp) throws IOException {
        VitForImageClassification vit = vit();
        float[] base = logits(vit);
        long baseParams = vit.namedParameters().values().stream().mapToLong(org.peft4j.nn.Module::numel).sum();
        TunerConfig config = Methods.config(method, options, vit);
        PeftModel peft = new PeftModel(vit, vit.headPath(), manager);
        peft.addAdapter("a", config);

        PeftModel.ParameterCounts counts = peft.counts();
        assertEquals(expectedTrainable + HEAD, counts.trainable(), method + ": trainable = formula + the head");
        assertEquals(baseParams + expectedTrainable, counts.all(), method + ": all = base + the adapter's own");

        float[] start = logits(vit);
        if (identityAtStart) {
            assertClose(base, start, 2e-5f);
        } else {
            assertTrue(Fixtures.maxAbsDiff(base, start) > 1e-4, method + " changes the model from the start");
        }

        // Random values everywhere, so that nothing below passes by being zero.
        Random random = new Random(3);
        for (Parameter p : peft.trainableParameters().values()) {
            float[] v = p.getArray().toFloatArray();
            for (int i = 0; i < v.length; i++) {
                v[i] += (float) (0.2 * random.nextGaussian());
            }
            p.getArray().set(v);
        }
        float[] adapted = logits(vit);
        assertTrue(Fixtures.maxAbsDiff(base, adapted) > 1e-3, method + " adapts the output");

        // One backward pass reaches every trainable parameter.
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            Trainer.backward(vit, Fixtures.input("pixel_values", manager), new int[] {0, 1, 2, 3}, 1.0);
            for (Map.Entry<String, Parameter> e : peft.trainableParameters().entrySet()) {
                float[] g = e.getValue().getArray().getGradient().toFloatArray();
                double norm = 0;
                for (float f : g) {
                    assertTrue(Float.isFinite(f), e.getKey());
                    norm += f * f;
                }
                assertTrue(norm > 0, method + ": no gradient reaches " + e.getKey());
            }
        }

        // Save, load into a fresh copy of the base: same logits.
        peft.save(tmp, "a");
        VitForImageClassification fresh = vit();
        PeftModel reloaded = new PeftModel(fresh, fresh.headPath(), manager);
        reloaded.load(tmp, "b");
        assertClose(adapted, logits(fresh), 1e-5f);

        boolean canMerge = peft.placements("a").stream().allMatch(pl -> pl.hook() instanceof MergeableHook);
        assertEquals(mergeable, canMerge, method + " merges where the math allows");
        if (mergeable) {
            peft.merge(true, "a");
            assertClose(adapted, logits(vit), 1e-4f);
            peft.unmerge();
            assertClose(adapted, logits(vit), 1e-4f);
            VitForImageClassification plain = (VitForImageClassification) reloaded.mergeAndUnload(true);
            assertClose(adapted, logits(plain), 1e-4f);
        } else {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> peft.mergeAndUnload(true));
            assertTrue(e.getMessage().contains("cannot be merged"), e.getMessage());
            assertClose(adapted, logits(vit), 1e-6f); // the refused merge changed nothing
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("methods")
    void configRoundTripsThroughJson(String method, MethodOptions options) throws IOException {
        VitForImageClassification vit = vit();
        TunerConfig config = Methods.config(method, options, vit);
        TunerConfig again = PeftConfigs.fromJson(org.peft4j.io.Json.MAPPER.valueToTree(config.toJson()));
        assertEquals(config, again, method);
        assertFalse(config.toJson().isEmpty());
    }
}
