package org.peft4j.models.vit;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.Fixtures;
import org.peft4j.io.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** VitConfig reads transformers' ViTConfig fields (with its defaults), preprocessor settings and timm hub configs. */
class VitConfigTest {

    private static ObjectNode json(String text) throws IOException {
        return (ObjectNode) Json.MAPPER.readTree(text);
    }

    private static float[] floats(double... v) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (float) v[i];
        }
        return out;
    }

    @Test
    void emptyConfigHasTransformersDefaults() throws IOException {
        VitConfig c = VitConfig.fromJson(json("{}"));
        assertEquals(768, c.hiddenSize());
        assertEquals(12, c.numLayers());
        assertEquals(12, c.numHeads());
        assertEquals(3072, c.intermediateSize());
        assertEquals(224, c.imageSize());
        assertEquals(16, c.patchSize());
        assertEquals(3, c.numChannels());
        assertEquals(1e-12f, c.layerNormEps());
        assertTrue(c.qkvBias());
        assertEquals(List.of("LABEL_0", "LABEL_1"), c.labels(), "PretrainedConfig's default num_labels is 2");
        assertArrayEquals(floats(0.5, 0.5, 0.5), c.imageMean());
        assertArrayEquals(floats(0.5, 0.5, 0.5), c.imageStd());
        assertEquals(VitNaming.HF, c.naming());
        assertEquals(14, c.gridSize());
        assertEquals(196, c.numPatches());
    }

    @Test
    void readsTheFixtureConfig() throws IOException {
        VitConfig c = VitConfig.fromDirectory(Fixtures.vitTiny("hf"));
        assertEquals(32, c.hiddenSize());
        assertEquals(2, c.numLayers());
        assertEquals(4, c.numHeads());
        assertEquals(64, c.intermediateSize());
        assertEquals(16, c.imageSize());
        assertEquals(4, c.patchSize());
        assertEquals(1e-6f, c.layerNormEps());
        assertEquals(List.of("circle", "square", "triangle", "cross", "ring"), c.labels());
    }

    @Test
    void numLabelsWithoutId2label() throws IOException {
        assertEquals(List.of("LABEL_0", "LABEL_1", "LABEL_2"), VitConfig.fromJson(json("{\"num_labels\": 3}")).labels());
    }

    @Test
    void id2labelIsOrderedByIdNotByKeyOrText() throws IOException {
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            ids.add(i);
        }
        Collections.shuffle(ids, new java.util.Random(1));
        ObjectNode o = Json.MAPPER.createObjectNode();
        ObjectNode id2label = o.putObject("id2label");
        for (int i : ids) {
            id2label.put(Integer.toString(i), "class" + i);
        }
        List<String> labels = VitConfig.fromJson(o).labels();
        assertEquals(12, labels.size());
        for (int i = 0; i < 12; i++) {
            assertEquals("class" + i, labels.get(i), "\"10\" sorts before \"2\" as text, not as an id");
        }
        // id2label wins over a disagreeing num_labels, as in transformers.
        assertEquals(List.of("b", "a"), VitConfig.fromJson(json("{\"num_labels\": 5, \"id2label\": {\"1\": \"a\", \"0\": \"b\"}}")).labels());
    }

    @Test
    void id2labelWithAGapOrANonIntegerKeyIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> VitConfig.fromJson(json("{\"id2label\": {\"0\": \"a\", \"2\": \"c\"}}")));
        assertTrue(e.getMessage().contains("id2label"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> VitConfig.fromJson(json("{\"id2label\": {\"zero\": \"a\"}}")));
        assertTrue(e.getMessage().contains("zero"), e.getMessage());
    }

    @Test
    void hiddenSizeMustBeAMultipleOfTheHeads() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> VitConfig.fromJson(json("{\"hidden_size\": 30, \"num_attention_heads\": 4}")));
        assertTrue(e.getMessage().contains("hidden_size 30") && e.getMessage().contains("num_attention_heads 4"),
                e.getMessage());
    }

    @Test
    void imageSizeMustBeAMultipleOfThePatch() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> VitConfig.fromJson(json("{\"image_size\": 15, \"patch_size\": 4}")));
        assertTrue(e.getMessage().contains("image_size 15") && e.getMessage().contains("patch_size 4"), e.getMessage());
    }

    @Test
    void errorsFromAFileNameTheFile(@TempDir Path tmp) throws IOException {
        Files.writeString(tmp.resolve("config.json"), "{\"hidden_size\": 30, \"num_attention_heads\": 4}");
        IOException e = assertThrows(IOException.class, () -> VitConfig.fromDirectory(tmp));
        assertTrue(e.getMessage().contains(tmp.resolve("config.json").toString()), e.getMessage());
        assertTrue(e.getMessage().contains("num_attention_heads"), e.getMessage());
    }

    @Test
    void nonPositiveSizeIsRefusedNamingTheField() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> VitConfig.fromJson(json("{\"hidden_size\": 32, \"num_attention_heads\": 4, \"num_hidden_layers\": 0}")));
        assertTrue(e.getMessage().contains("num_hidden_layers") || e.getMessage().contains("numLayers=0"), e.getMessage());
        assertTrue(!e.getMessage().contains("hiddenSize=0"), "the message must not report the hidden size 32 as 0: " + e.getMessage());
    }

    @Test
    void onlyGeluIsAccepted() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> VitConfig.fromJson(json("{\"hidden_act\": \"relu\"}")));
        assertTrue(e.getMessage().contains("hidden_act"), e.getMessage());
    }

    @Test
    void preprocessorConfigOverridesMeanAndStd(@TempDir Path tmp) throws IOException {
        ObjectNode config = (ObjectNode) Json.MAPPER.readTree(Fixtures.vitTiny("hf/config.json").toFile());
        config.putArray("image_mean").add(0.1).add(0.2).add(0.3);
        config.put("image_std", 0.9);
        Files.writeString(tmp.resolve("config.json"), config.toString());
        VitConfig fromConfig = VitConfig.fromDirectory(tmp);
        assertArrayEquals(floats(0.1, 0.2, 0.3), fromConfig.imageMean());
        assertArrayEquals(floats(0.9, 0.9, 0.9), fromConfig.imageStd(), "a single number applies to every channel");

        Files.writeString(tmp.resolve("preprocessor_config.json"),
                "{\"image_mean\": [0.485, 0.456, 0.406], \"image_std\": [0.229, 0.224, 0.225], \"size\": {\"height\": 16}}");
        VitConfig c = VitConfig.fromDirectory(tmp);
        assertArrayEquals(floats(0.485, 0.456, 0.406), c.imageMean());
        assertArrayEquals(floats(0.229, 0.224, 0.225), c.imageStd());
        assertEquals(fromConfig.hiddenSize(), c.hiddenSize());
        assertEquals(fromConfig.labels(), c.labels());
    }

    @Test
    void badPreprocessorConfigNamesTheFile(@TempDir Path tmp) throws IOException {
        Files.copy(Fixtures.vitTiny("hf/config.json"), tmp.resolve("config.json"));
        Path pre = tmp.resolve("preprocessor_config.json");
        Files.writeString(pre, "{\"image_mean\": [0.485, 0.456]}");
        IOException e = assertThrows(IOException.class, () -> VitConfig.fromDirectory(tmp), "two values for three channels");
        assertTrue(e.getMessage().contains(pre.toString()) && e.getMessage().contains("image_mean"), e.getMessage());

        Files.writeString(pre, "{\"image_mean\": ");
        e = assertThrows(IOException.class, () -> VitConfig.fromDirectory(tmp));
        assertTrue(e.getMessage().contains(pre.toString()), e.getMessage());
    }

    @Test
    void timmHubConfigNamesAPreset() throws IOException {
        VitConfig c = VitConfig.fromJson(json("{\"architecture\": \"vit_base_patch16_224\", \"num_classes\": 1000,"
                + " \"pretrained_cfg\": {\"mean\": [0.485, 0.456, 0.406], \"std\": [0.229, 0.224, 0.225]}}"));
        assertEquals(VitNaming.TIMM, c.naming());
        assertEquals(768, c.hiddenSize());
        assertEquals(12, c.numLayers());
        assertEquals(12, c.numHeads());
        assertEquals(3072, c.intermediateSize());
        assertEquals(224, c.imageSize());
        assertEquals(16, c.patchSize());
        assertEquals(1e-6f, c.layerNormEps(), "timm's LayerNorm eps");
        assertEquals(1000, c.numLabels());
        assertArrayEquals(floats(0.485, 0.456, 0.406), c.imageMean());
        assertArrayEquals(floats(0.229, 0.224, 0.225), c.imageStd());

        VitConfig named = VitConfig.fromJson(json("{\"architecture\": \"vit_small_patch16_224\", \"num_classes\": 2,"
                + " \"label_names\": [\"cat\", \"dog\"]}"));
        assertEquals(384, named.hiddenSize());
        assertEquals(6, named.numHeads());
        assertEquals(List.of("cat", "dog"), named.labels());

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> VitConfig.fromJson(json("{\"architecture\": \"vit_huge_patch14_clip_224\"}")));
        assertTrue(e.getMessage().contains("vit_huge_patch14_clip_224"), e.getMessage());
    }

    @Test
    void toJsonReadsBackToTheSameConfig() throws IOException {
        VitConfig c = VitConfig.fromDirectory(Fixtures.vitTiny("hf"));
        VitConfig again = VitConfig.fromJson(Json.MAPPER.readTree(c.toJson().toString()));
        assertEquals(c.hiddenSize(), again.hiddenSize());
        assertEquals(c.numLayers(), again.numLayers());
        assertEquals(c.numHeads(), again.numHeads());
        assertEquals(c.intermediateSize(), again.intermediateSize());
        assertEquals(c.imageSize(), again.imageSize());
        assertEquals(c.patchSize(), again.patchSize());
        assertEquals(c.layerNormEps(), again.layerNormEps());
        assertEquals(c.qkvBias(), again.qkvBias());
        assertEquals(c.labels(), again.labels());
        assertArrayEquals(c.imageMean(), again.imageMean());
        assertArrayEquals(c.imageStd(), again.imageStd());
    }
}
