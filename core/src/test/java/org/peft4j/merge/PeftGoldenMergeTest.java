package org.peft4j.merge;

import ai.djl.ndarray.NDArray;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.peft4j.Fixtures;
import org.peft4j.ManagedTest;
import org.peft4j.io.SafetensorsReader;
import org.peft4j.models.vit.VitCheckpoint;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.peft.PeftModel;
import org.peft4j.tuners.TargetModules;
import org.peft4j.tuners.lora.LoraConfig;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;

import static org.peft4j.Fixtures.assertClose;

/**
 * PEFT's add_weighted_adapter on one layer against tools/make_merge_fixtures.py (an independent
 * torch implementation): three rank-2 adapters with scalings 2, 0.5, 1.5, weights 1, -0.5, 2.
 */
class PeftGoldenMergeTest extends ManagedTest {

    private static final String Q0 = "vit.encoder.layer.0.attention.attention.query";
    private static final float[] WEIGHTS = {1f, -0.5f, 2f};

    private PeftModel peft;
    private SafetensorsReader golden;

    @BeforeEach
    void open() throws IOException, URISyntaxException {
        golden = SafetensorsReader.open(Path.of(getClass().getResource("/fixtures/merge/peft-merge.safetensors").toURI()));
        VitForImageClassification vit = VitCheckpoint.load(Fixtures.vitTiny("hf"), manager);
        peft = new PeftModel(vit, vit.headPath(), manager);
        String[] names = {"x", "y", "z"};
        double[] alphas = {4, 1, 3};
        for (int i = 0; i < 3; i++) {
            peft.addAdapter(names[i], new LoraConfig(2, alphas[i], 0, TargetModules.of("query"), false, null, null,
                    LoraConfig.Bias.NONE, null, LoraConfig.Init.RANDOM, null, null));
            var layer = Fixtures.loraLayers(peft, names[i]).get(Q0);
            layer.parameters().get("lora_A.weight").getArray().set(golden.readFloats(names[i] + ".lora_A"));
            layer.parameters().get("lora_B.weight").getArray().set(golden.readFloats(names[i] + ".lora_B"));
        }
    }

    @AfterEach
    void close() throws IOException {
        golden.close();
    }

    private LoraMerger.Result merge(MergeMethod m, String sign) {
        return LoraMerger.merge(peft, List.of("x", "y", "z"), new LoraMerger.Options(m,
                LoraMerger.LayerWeights.constant(WEIGHTS), 3, m.usesDensity() ? 0.5 : null,
                MergeOps.SignMethod.parse(sign), m.usesSvd() ? 3 : null, null, 0));
    }

    @ParameterizedTest
    @CsvSource({"cat,total,cat", "linear,total,linear", "ties,total,ties", "ties,frequency,ties-frequency",
            "magnitude_prune,total,magnitude_prune"})
    void factorResultsArePeftsFactors(String method, String sign, String label) throws IOException {
        LoraMerger.Result r = merge(MergeMethod.parse(method), sign);
        assertClose(golden.readFloats(label + ".lora_A"), r.tensors().get(Q0 + ".lora_A.weight").toFloatArray(), 1e-5f);
        assertClose(golden.readFloats(label + ".lora_B"), r.tensors().get(Q0 + ".lora_B.weight").toFloatArray(), 1e-5f);
    }

    @ParameterizedTest
    @CsvSource({"svd", "ties_svd", "magnitude_prune_svd"})
    void svdResultsArePeftsProducts(String method) throws IOException {
        LoraMerger.Result r = merge(MergeMethod.parse(method), "total");
        NDArray product = r.tensors().get(Q0 + ".lora_B.weight").matMul(r.tensors().get(Q0 + ".lora_A.weight"));
        assertClose(golden.readFloats(method + ".delta"), product.toFloatArray(), 1e-4f);
    }
}
