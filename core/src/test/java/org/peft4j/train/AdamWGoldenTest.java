package org.peft4j.train;

import org.peft4j.ManagedTest;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.peft4j.io.SafetensorsReader;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * AdamW, global-norm clipping and the schedule against {@code torch.optim.AdamW} +
 * {@code clip_grad_norm_} (fixture from tools/make_optim_fixtures.py).
 */
class AdamWGoldenTest extends ManagedTest {

    // The settings of tools/make_optim_fixtures.py.
    private static final List<String> NAMES = List.of("weight", "bias", "norm.weight");
    private static final int STEPS = 6;
    private static final int LARGE_GRADIENT_STEP = 3;
    private static final double PEAK_LR = 0.05;
    private static final long WARMUP_STEPS = 2;
    private static final double MIN_LR = 0.001;
    private static final double WEIGHT_DECAY = 0.1;
    private static final double MAX_GRAD_NORM = 1.0;
    /** Relative tolerance on parameters (float32 arithmetic, a different but equivalent op order). */
    private static final double RELATIVE = 1e-6;

    private SafetensorsReader golden;

    @BeforeEach
    void open() throws IOException, URISyntaxException {
        golden = SafetensorsReader.open(Path.of(getClass().getResource("/fixtures/optim/adamw.safetensors").toURI()));
    }

    @AfterEach
    void close() throws IOException {
        golden.close();
    }

    private static LearningRateSchedule schedule() {
        return new LearningRateSchedule(PEAK_LR, WARMUP_STEPS, STEPS, MIN_LR);
    }

    private LinkedHashMap<String, Parameter> parameters(String prefix) throws IOException {
        LinkedHashMap<String, Parameter> params = new LinkedHashMap<>();
        for (String name : NAMES) {
            params.put(name, parameter(name, golden.readNDArray(prefix + name, manager)));
        }
        return params;
    }

    private static Parameter parameter(String name, NDArray value) {
        Parameter p = Parameter.builder().setName(name).setType(Parameter.Type.OTHER).optArray(value).build();
        p.freeze(false);
        return p;
    }

    /** Backward of {@code Σ sum(p ⊙ G_p)}, whose gradient with respect to p is exactly G_p. */
    private void setGradients(Map<String, Parameter> params, int step) throws IOException {
        try (NDScope scope = new NDScope();
             GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            scope.suppressNotUsedWarning();
            NDArray loss = null;
            for (String name : NAMES) {
                NDArray g = golden.readNDArray("grad." + step + "." + name, manager);
                NDArray term = params.get(name).getArray().mul(g).sum();
                loss = loss == null ? term : loss.add(term);
            }
            collector.backward(loss);
        }
    }

    private void assertParams(Map<String, Parameter> params, int step) throws IOException {
        for (String name : NAMES) {
            float[] expected = golden.readFloats("param." + step + "." + name);
            float[] actual = params.get(name).getArray().toFloatArray();
            assertEquals(expected.length, actual.length, name);
            for (int i = 0; i < expected.length; i++) {
                double tol = RELATIVE * Math.max(Math.abs(expected[i]), 0.1);
                if (!(Math.abs(expected[i] - actual[i]) <= tol)) { // NaN fails too
                    fail("step " + step + ", " + name + "[" + i + "]: torch " + expected[i] + ", ours " + actual[i]);
                }
            }
        }
    }

    /** Runs golden steps {@code from..STEPS-1} and checks norms and parameters after each. */
    private void runSteps(AdamW optimizer, Map<String, Parameter> params, int from) throws IOException {
        float[] norms = golden.readFloats("grad_norm");
        LearningRateSchedule schedule = schedule();
        for (int step = from; step < STEPS; step++) {
            setGradients(params, step);
            double norm = optimizer.clipGradNorm(MAX_GRAD_NORM);
            assertEquals(norms[step], norm, 1e-6 * norms[step], "pre-clip norm at step " + step);
            assertEquals(step == LARGE_GRADIENT_STEP, norm > MAX_GRAD_NORM, "clipping at step " + step);
            optimizer.step(schedule.at(optimizer.stepCount()));
            assertParams(params, step);
        }
    }

    @Test
    void matchesTorchAdamWWithParameterGroupsClippingAndSchedule() throws IOException {
        LinkedHashMap<String, Parameter> params = parameters("init.");
        AdamW optimizer = new AdamW(params, WEIGHT_DECAY, 0.9, 0.999, 1e-8, manager);
        assertEquals(List.of("weight"), optimizer.decayedNames());
        runSteps(optimizer, params, 0);
        assertEquals(STEPS, optimizer.stepCount());
    }

    @Test
    void restoredStateContinuesExactlyLikeTheUninterruptedRun() throws IOException {
        int split = LARGE_GRADIENT_STEP; // resume right before the clipped step
        LinkedHashMap<String, Parameter> first = parameters("init.");
        AdamW before = new AdamW(first, WEIGHT_DECAY, manager);
        float[] norms = golden.readFloats("grad_norm");
        for (int step = 0; step < split; step++) {
            setGradients(first, step);
            assertEquals(norms[step], before.clipGradNorm(MAX_GRAD_NORM), 1e-6 * norms[step]);
            before.step(schedule().at(step));
        }
        Map<String, float[]> state = new LinkedHashMap<>();
        before.state().forEach((k, v) -> state.put(k, v.toFloatArray()));

        LinkedHashMap<String, Parameter> second = parameters("param." + (split - 1) + ".");
        AdamW after = new AdamW(second, WEIGHT_DECAY, manager);
        after.restore(state, before.stepCount());
        runSteps(after, second, split);
    }

    @Test
    void stepZeroesGradientsSoTheNextBackwardDoesNotAccumulate() throws IOException {
        LinkedHashMap<String, Parameter> params = parameters("init.");
        AdamW optimizer = new AdamW(params, WEIGHT_DECAY, manager);
        setGradients(params, 0);
        optimizer.step(0.01);
        for (Parameter p : params.values()) {
            try (NDArray g = p.getArray().getGradient()) {
                assertEquals(0f, g.abs().sum().getFloat(), p.getName());
            }
        }
    }

    @Test
    void clippingDisabledReturnsTheNormAndLeavesGradientsAlone() throws IOException {
        LinkedHashMap<String, Parameter> params = parameters("init.");
        AdamW optimizer = new AdamW(params, WEIGHT_DECAY, manager);
        setGradients(params, LARGE_GRADIENT_STEP);
        double norm = optimizer.clipGradNorm(0);
        assertEquals(golden.readFloats("grad_norm")[LARGE_GRADIENT_STEP], norm, 1e-6 * norm);
        for (String name : NAMES) {
            float[] expected = golden.readFloats("grad." + LARGE_GRADIENT_STEP + "." + name);
            try (NDArray g = params.get(name).getArray().getGradient()) {
                assertEquals(List.of(toBoxed(expected)), List.of(toBoxed(g.toFloatArray())), name);
            }
        }
    }

    @Test
    void restoreWithoutStateForAParameterFails() throws IOException {
        AdamW optimizer = new AdamW(parameters("init."), WEIGHT_DECAY, manager);
        Map<String, float[]> state = new LinkedHashMap<>();
        optimizer.state().forEach((k, v) -> state.put(k, v.toFloatArray()));
        state.remove("exp_avg_sq.bias");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> optimizer.restore(state, 3));
        assertTrue(e.getMessage().contains("bias"), e.getMessage());
    }

    @Test
    void decayRuleSparesBiasesNormsTokensAndPositionEmbeddings() {
        assertTrue(decays("vit.encoder.layer.0.attention.attention.query.weight", 32, 32));
        assertTrue(decays("base_model.model.classifier.weight", 5, 32));
        assertTrue(decays("vit.encoder.layer.0.attention.attention.query.lora_A.weight", 4, 32));
        assertTrue(decays("vit.embeddings.patch_embeddings.projection.weight", 32, 3, 4, 4));
        assertFalse(decays("vit.encoder.layer.0.attention.attention.query.bias", 32));
        assertFalse(decays("classifier.bias", 5));
        assertFalse(decays("vit.layernorm.weight", 32));
        assertFalse(decays("norm.weight", 4));
        assertFalse(decays("some.layer.weight", 32), "1-D parameters are never decayed");
        assertFalse(decays("vit.embeddings.cls_token", 1, 1, 32));
        assertFalse(decays("cls_token", 1, 1, 32));
        assertFalse(decays("pos_embed", 1, 17, 32));
        assertFalse(decays("vit.embeddings.position_embeddings", 1, 17, 32));
        assertFalse(decays("prompt_encoder.embedding", 10, 32));
        assertFalse(decays("blocks.0.norm1.weight_2d", 2, 32), "any name with 'norm' is spared");
        assertFalse(decays("vit.encoder.layer.0.attention.attention.key.ia3_l", 32, 1), "IA3 vectors scale around 1");
        assertFalse(decays("vit.encoder.layer.0.output.dense.ia3_l", 1, 64));
        assertFalse(decays("vit.encoder.layer.0.prefix_key", 10, 32));
        assertFalse(decays("vit.encoder.layer.0.vpt_prompt", 10, 32));
        assertTrue(decays("vit.encoder.layer.0.adapter_mlp.down.weight", 8, 32));
    }

    private static boolean decays(String name, long... shape) {
        Parameter p = Parameter.builder().setName(name).setType(Parameter.Type.OTHER).optShape(new Shape(shape)).build();
        return AdamW.decays(name, p);
    }

    @Test
    void scheduleWarmsUpLinearlyThenDecaysByCosineToTheFloor() {
        LearningRateSchedule s = new LearningRateSchedule(1.0, 4, 14, 0.1);
        assertEquals(0.25, s.at(0), 1e-12, "first step already trains");
        assertEquals(0.5, s.at(1), 1e-12);
        assertEquals(1.0, s.at(3), 1e-12, "peak on the last warm-up step");
        assertEquals(1.0, s.at(4), 1e-12, "cosine starts at the peak");
        assertEquals(0.55, s.at(9), 1e-12, "half way down the cosine");
        assertEquals(0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * 0.9)), s.at(13), 1e-12, "last step");
        assertEquals(0.1, s.at(14), 1e-12, "the floor after the last step");
        assertEquals(0.1, s.at(100), 1e-12, "stays at the floor");
        for (int step = 4; step < 14; step++) {
            assertTrue(s.at(step + 1) < s.at(step), "decreasing at " + step);
        }

        LearningRateSchedule noWarmup = new LearningRateSchedule(2.0, 0, 10, 0.0);
        assertEquals(2.0, noWarmup.at(0), 1e-12);
        assertEquals(0.0, noWarmup.at(10), 1e-12);
    }

    @Test
    void scheduleMatchesTheLearningRatesOfTheGoldenRun() throws IOException {
        float[] lrs = golden.readFloats("lr");
        LearningRateSchedule s = schedule();
        for (int step = 0; step < STEPS; step++) {
            assertEquals(lrs[step], s.at(step), 1e-7 * lrs[step], "lr at step " + step);
        }
    }

    @Test
    void scheduleRejectsWarmupLongerThanTraining() {
        assertThrows(IllegalArgumentException.class, () -> new LearningRateSchedule(1.0, 11, 10, 0.0));
        assertThrows(IllegalArgumentException.class, () -> new LearningRateSchedule(1.0, -1, 10, 0.0));
        assertThrows(IllegalArgumentException.class, () -> new LearningRateSchedule(1.0, 0, 0, 0.0));
    }

    private static Float[] toBoxed(float[] values) {
        Float[] out = new Float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }
}
