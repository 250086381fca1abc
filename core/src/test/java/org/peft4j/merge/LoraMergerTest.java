package org.peft4j.merge;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.peft4j.Fixtures;
import org.peft4j.ManagedTest;
import org.peft4j.models.vit.VitCheckpoint;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.peft.PeftModel;
import org.peft4j.tuners.TargetModules;
import org.peft4j.tuners.lora.LoraConfig;
import org.peft4j.tuners.lora.LoraLayer;
import org.peft4j.tuners.mlae.MlaeConfig;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.peft4j.Fixtures.assertClose;

/**
 * The adapter-level merge against PEFT's add_weighted_adapter formulas, written out per method on
 * the tiny fixture ViT with random A and B (cᵢ = wᵢ·sᵢ).
 */
class LoraMergerTest extends ManagedTest {

    private static final String Q0 = "vit.encoder.layer.0.attention.attention.query";
    private static final String V0 = "vit.encoder.layer.0.attention.attention.value";
    private static final float TOL = 1e-5f;

    private PeftModel peft;

    @BeforeEach
    void open() throws IOException {
        Engine.getInstance().setRandomSeed(11);
        VitForImageClassification vit = VitCheckpoint.load(Fixtures.vitTiny("hf"), manager);
        peft = new PeftModel(vit, vit.headPath(), manager);
    }

    private static LoraConfig lora(int r, double alpha, boolean rslora, String... targets) {
        return new LoraConfig(r, alpha, 0.0, TargetModules.of(targets), rslora, null, null, LoraConfig.Bias.NONE, null,
                LoraConfig.Init.RANDOM, null, null);
    }

    private LoraLayer layer(String adapter, String path) {
        return Fixtures.loraLayers(peft, adapter).get(path);
    }

    private NDArray a(String adapter, String path) {
        return layer(adapter, path).parameters().get("lora_A.weight").getArray();
    }

    private NDArray b(String adapter, String path) {
        return layer(adapter, path).parameters().get("lora_B.weight").getArray();
    }

    private static NDArray product(LoraMerger.Result r, String path) {
        return r.tensors().get(path + ".lora_B.weight").matMul(r.tensors().get(path + ".lora_A.weight"));
    }

    private void addTwo() {
        peft.addAdapter("x", lora(2, 4, false, "query", "value")); // s = 2
        peft.addAdapter("y", lora(2, 1, false, "query", "value")); // s = 0.5
    }

    @Test
    void catIsExactWithTheRanksAddedAndScalingOne() {
        addTwo();
        LoraMerger.Result r = LoraMerger.merge(peft, List.of("x", "y"), LoraMerger.Options.of(MergeMethod.CAT,
                new float[] {0.5f, -3f}));
        assertEquals(4, r.config().r());
        assertEquals(4.0, r.config().loraAlpha());
        assertEquals(1.0, r.config().scalingFor(Q0), 1e-12);
        // Σ cᵢ Bᵢ Aᵢ with c = (0.5·2, −3·0.5)
        NDArray expected = b("x", Q0).matMul(a("x", Q0)).mul(1f).add(b("y", Q0).matMul(a("y", Q0)).mul(-1.5f));
        assertClose(expected.toFloatArray(), product(r, Q0).toFloatArray(), TOL);
        // A' = [c₁A₁; c₂A₂] row for row, B' = [B₁ B₂]
        assertClose(a("y", Q0).mul(-1.5f).toFloatArray(), r.tensors().get(Q0 + ".lora_A.weight").get("2:4").toFloatArray(), TOL);
        assertClose(b("x", Q0).toFloatArray(), r.tensors().get(Q0 + ".lora_B.weight").get(":, 0:2").toFloatArray(), TOL);
    }

    @Test
    void linearWeightsAWithTheSignedRootAndBWithTheRootSoCrossTermsAppear() {
        addTwo();
        LoraMerger.Result r = LoraMerger.merge(peft, List.of("x", "y"), LoraMerger.Options.of(MergeMethod.LINEAR,
                new float[] {2f, -1f}));
        assertEquals(2, r.config().r());
        // c = (4, −0.5): A' = 2·A₁ − √0.5·A₂, B' = 2·B₁ + √0.5·B₂
        float root = (float) Math.sqrt(0.5);
        NDArray aExp = a("x", V0).mul(2f).sub(a("y", V0).mul(root));
        NDArray bExp = b("x", V0).mul(2f).add(b("y", V0).mul(root));
        assertClose(aExp.toFloatArray(), r.tensors().get(V0 + ".lora_A.weight").toFloatArray(), TOL);
        assertClose(bExp.toFloatArray(), r.tensors().get(V0 + ".lora_B.weight").toFloatArray(), TOL);
        NDArray exact = b("x", V0).matMul(a("x", V0)).mul(4f).sub(b("y", V0).matMul(a("y", V0)).mul(0.5f));
        assertTrue(Fixtures.maxAbsDiff(exact.toFloatArray(), product(r, V0).toFloatArray()) > 1e-3,
                "PEFT's linear is not the weighted sum of the ΔW");
    }

    @Test
    void svdScalesTwiceAsPeftDoesAndTaskArithmeticOnce() {
        addTwo();
        float[] w = {1f, 2f};
        LoraMerger.Result svd = LoraMerger.merge(peft, List.of("x", "y"),
                new LoraMerger.Options(MergeMethod.SVD, LoraMerger.LayerWeights.constant(w), 2, null, null, 4, null, 0));
        // PEFT: ΔWᵢ = sᵢBᵢAᵢ weighted by wᵢsᵢ → Σ wᵢ sᵢ² BᵢAᵢ; rank 4 holds it exactly
        NDArray twice = b("x", Q0).matMul(a("x", Q0)).mul(4f).add(b("y", Q0).matMul(a("y", Q0)).mul(0.5f));
        assertClose(twice.toFloatArray(), product(svd, Q0).toFloatArray(), 1e-4f);
        LoraMerger.Result ta = LoraMerger.merge(peft, List.of("x", "y"), LoraMerger.Options.of(MergeMethod.TASK_ARITHMETIC, w));
        NDArray once = b("x", Q0).matMul(a("x", Q0)).mul(2f).add(b("y", Q0).matMul(a("y", Q0)).mul(1f));
        assertClose(once.toFloatArray(), product(ta, Q0).toFloatArray(), 1e-4f);
        assertEquals(4, ta.config().r(), "the weight-space default rank is the sum of the ranks: exact");
        // svd's default rank is the largest input rank: a truncation
        LoraMerger.Result truncated = LoraMerger.merge(peft, List.of("x", "y"), LoraMerger.Options.of(MergeMethod.SVD, w));
        assertEquals(2, truncated.config().r());
        assertTrue((double) truncated.info().get("svd_relative_error_max") > 0);
    }

    @Test
    void factorSpaceMethodsNeedEqualRanksAndCatDoesNot() {
        peft.addAdapter("x", lora(2, 4, false, "query"));
        peft.addAdapter("z", lora(3, 3, false, "query"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
                LoraMerger.merge(peft, List.of("x", "z"), LoraMerger.Options.of(MergeMethod.LINEAR, new float[] {1, 1})));
        assertTrue(e.getMessage().contains("equal rank"), e.getMessage());
        LoraMerger.Result cat = LoraMerger.merge(peft, List.of("x", "z"), LoraMerger.Options.of(MergeMethod.CAT, new float[] {1, 1}));
        assertEquals(5, cat.config().r());
    }

    @Test
    void rsLoraInputsGiveAPlainScaleOneResult() {
        peft.addAdapter("x", lora(4, 4, true, "query")); // s = 4/√4 = 2
        LoraMerger.Result r = LoraMerger.merge(peft, List.of("x"), LoraMerger.Options.of(MergeMethod.CAT, new float[] {1}));
        assertFalse(r.config().useRslora(), "PEFT copies use_rslora and so scales the result by √r");
        NDArray expected = b("x", Q0).matMul(a("x", Q0)).mul(2f);
        assertClose(expected.toFloatArray(), product(r, Q0).toFloatArray(), TOL);
    }

    @Test
    void layersOnlySomeAdaptersTouchMergeAsZeroDeltas() {
        peft.addAdapter("q", lora(2, 2, false, "query"));
        peft.addAdapter("v", lora(2, 2, false, "value"));
        LoraMerger.Result r = LoraMerger.merge(peft, List.of("q", "v"),
                LoraMerger.Options.of(MergeMethod.TIES_MERGING, new float[] {1, 1}, 1.0));
        assertClose(b("q", Q0).matMul(a("q", Q0)).toFloatArray(), product(r, Q0).toFloatArray(), 1e-4f);
        assertClose(b("v", V0).matMul(a("v", V0)).toFloatArray(), product(r, V0).toFloatArray(), 1e-4f);
        assertEquals(List.of("query", "value"), r.config().targetModules().names());
    }

    @Test
    void doraAndMlaeMergeInWeightSpaceOnly() {
        peft.addAdapter("d", lora(2, 4, false, "query").withDora(true));
        peft.addAdapter("m", MlaeConfig.stochastic(2, 2, 0.0, TargetModules.of("query")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
                LoraMerger.merge(peft, List.of("d", "m"), LoraMerger.Options.of(MergeMethod.CAT, new float[] {1, 1})));
        assertTrue(e.getMessage().contains("DoRA"), e.getMessage());
        // DoRA's true ΔW is what merging it into W adds
        NDArray w = peft.base().namedParameters().get(Q0 + ".weight").getArray();
        NDArray before = w.duplicate();
        peft.setActiveAdapters("d");
        peft.merge(false, "d");
        NDArray doraDelta = w.sub(before);
        peft.unmerge();
        LoraMerger.Result r = LoraMerger.merge(peft, List.of("d"), LoraMerger.Options.of(MergeMethod.TASK_ARITHMETIC,
                new float[] {1}));
        assertEquals(2, r.config().r(), "DoRA's ΔW is of full rank; the result keeps the input rank");
        LoraMerger.Result full = LoraMerger.merge(peft, List.of("d"), new LoraMerger.Options(MergeMethod.TASK_ARITHMETIC,
                LoraMerger.LayerWeights.constant(new float[] {1}), 1, null, null, 32, null, 0));
        assertClose(doraDelta.toFloatArray(), product(full, Q0).toFloatArray(), 1e-4f);
    }

    @Test
    void emrKeepsOneMaskPerTaskAndRescalersOverAllLayers() {
        addTwo();
        LoraMerger.Result r = LoraMerger.merge(peft, List.of("x", "y"), LoraMerger.Options.of(MergeMethod.EMR_MERGING,
                new float[] {1, 1}));
        assertEquals(2, r.emr().rescalers().length);
        Map<String, NDArray> unified = r.emr().unified();
        assertTrue(unified.containsKey(Q0) && unified.containsKey(V0));
        NDArray dx = b("x", Q0).matMul(a("x", Q0)).mul(2f);
        NDArray mask = r.emr().masks().get(Q0).get(0).toType(ai.djl.ndarray.types.DataType.FLOAT32, false);
        // where the mask keeps an entry, the unified delta has the task's sign and at least its magnitude
        NDArray kept = unified.get(Q0).mul(mask);
        assertTrue(kept.mul(dx).gte(0f).all().getBoolean());
        assertTrue(kept.abs().sub(dx.abs().mul(mask)).gte(-1e-6f).all().getBoolean());
    }
}
