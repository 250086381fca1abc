package org.peft4j.models.vit;

import org.peft4j.ManagedTest;
import ai.djl.nn.Parameter;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.Fixtures;
import org.peft4j.io.Json;
import org.peft4j.io.SafetensorsReader;
import org.peft4j.io.SafetensorsWriter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.peft4j.Fixtures.TOLERANCE;
import static org.peft4j.Fixtures.assertClose;

/** Broken model folders fail with an IOException naming the file and the problem. */
class VitCheckpointErrorsTest extends ManagedTest {

    private static final String QUERY_0 = "vit.encoder.layer.0.attention.attention.query.weight";

    private record Tensor(float[] data, long[] shape) {}


    @TempDir
    Path tmp;


    private static Map<String, Tensor> fixtureTensors() throws IOException {
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (SafetensorsReader r = SafetensorsReader.open(Fixtures.vitTiny("hf/model.safetensors"))) {
            for (String name : r.names()) {
                out.put(name, new Tensor(r.readFloats(name), r.info(name).shape()));
            }
        }
        return out;
    }

    private static void writeTensors(Path file, Map<String, Tensor> tensors) throws IOException {
        SafetensorsWriter w = new SafetensorsWriter();
        tensors.forEach((name, t) -> w.add(name, t.data(), t.shape()));
        w.write(file);
    }

    /** A copy of the hf fixture folder with its tensors edited. */
    private Path folderWith(Consumer<Map<String, Tensor>> edit) throws IOException {
        Files.copy(Fixtures.vitTiny("hf/config.json"), tmp.resolve("config.json"));
        Map<String, Tensor> tensors = fixtureTensors();
        edit.accept(tensors);
        writeTensors(tmp.resolve(VitCheckpoint.WEIGHTS_FILE), tensors);
        return tmp;
    }

    /** A copy of the hf fixture folder with one config.json field changed. */
    private Path folderWithConfig(String field, int value) throws IOException {
        Files.copy(Fixtures.vitTiny("hf/model.safetensors"), tmp.resolve(VitCheckpoint.WEIGHTS_FILE));
        ObjectNode config = (ObjectNode) Json.MAPPER.readTree(Fixtures.vitTiny("hf/config.json").toFile());
        config.put(field, value);
        Files.writeString(tmp.resolve("config.json"), config.toString());
        return tmp;
    }

    private IOException loadFails(Path dir) {
        return assertThrows(IOException.class, () -> VitCheckpoint.load(dir, manager));
    }

    private static void assertMentions(IOException e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "'" + part + "' missing from: " + e.getMessage());
        }
    }

    @Test
    void missingWeightsFile() throws IOException {
        Files.copy(Fixtures.vitTiny("hf/config.json"), tmp.resolve("config.json"));
        IOException e = loadFails(tmp);
        assertMentions(e, tmp.resolve("model.safetensors").toString(), "not found");

        Files.writeString(tmp.resolve("pytorch_model.bin"), "x");
        assertMentions(loadFails(tmp), tmp.resolve("model.safetensors").toString(), "pytorch_model.bin");
    }

    @Test
    void missingConfig() throws IOException {
        Files.copy(Fixtures.vitTiny("hf/model.safetensors"), tmp.resolve("model.safetensors"));
        assertMentions(loadFails(tmp), tmp.resolve("config.json").toString(), "not found");
    }

    @Test
    void invalidJson() throws IOException {
        Files.copy(Fixtures.vitTiny("hf/model.safetensors"), tmp.resolve("model.safetensors"));
        Files.writeString(tmp.resolve("config.json"), "{\"hidden_size\": 32,");
        assertMentions(loadFails(tmp), tmp.resolve("config.json").toString(), "not valid JSON");

        Files.writeString(tmp.resolve("config.json"), "[32]");
        assertMentions(loadFails(tmp), tmp.resolve("config.json").toString(), "JSON object");

        Files.writeString(tmp.resolve("config.json"), "{\"hidden_size\": \"big\"}");
        assertMentions(loadFails(tmp), tmp.resolve("config.json").toString(), "hidden_size");
    }

    @Test
    void notASafetensorsFile() throws IOException {
        Files.copy(Fixtures.vitTiny("hf/config.json"), tmp.resolve("config.json"));
        Files.writeString(tmp.resolve("model.safetensors"), "this is not a safetensors file");
        assertMentions(loadFails(tmp), tmp.resolve("model.safetensors").toString());
    }

    @Test
    void tensorWithTheWrongShape() throws IOException {
        Path dir = folderWith(t -> t.put(QUERY_0, new Tensor(t.get(QUERY_0).data(), new long[] {16, 64})));
        assertMentions(loadFails(dir), dir.resolve("model.safetensors").toString(), QUERY_0, "shape", "16", "64");
    }

    @Test
    void classifierForAnotherNumberOfLabels() throws IOException {
        Path dir = folderWith(t -> {
            t.put("classifier.weight", new Tensor(new float[3 * 32], new long[] {3, 32}));
            t.put("classifier.bias", new Tensor(new float[3], new long[] {3}));
        });
        assertMentions(loadFails(dir), dir.resolve("model.safetensors").toString(), "classifier.weight", "shape");
    }

    @Test
    void positionEmbeddingThatIsNotAGrid() throws IOException {
        String key = "vit.embeddings.position_embeddings";
        Path dir = folderWith(t -> t.put(key, new Tensor(new float[16 * 32], new long[] {1, 16, 32})));
        assertMentions(loadFails(dir), dir.resolve("model.safetensors").toString(), key);
    }

    @Test
    void missingTensor() throws IOException {
        String key = "vit.encoder.layer.1.output.dense.weight";
        Path dir = folderWith(t -> t.remove(key));
        assertMentions(loadFails(dir), dir.resolve("model.safetensors").toString(), "missing", key);
    }

    @Test
    void unexpectedExtraTensor() throws IOException {
        String key = "vit.encoder.layer.0.attention.attention.extra.weight";
        Path dir = folderWith(t -> t.put(key, new Tensor(new float[4], new long[] {4})));
        assertMentions(loadFails(dir), dir.resolve("model.safetensors").toString(), key);
    }

    @Test
    void numHiddenLayersTooSmall() throws IOException {
        Path dir = folderWithConfig("num_hidden_layers", 1);
        assertMentions(loadFails(dir), dir.resolve("model.safetensors").toString(), "vit.encoder.layer.1.",
                "num_hidden_layers");
    }

    @Test
    void numHiddenLayersTooLarge() throws IOException {
        Path dir = folderWithConfig("num_hidden_layers", 3);
        assertMentions(loadFails(dir), dir.resolve("model.safetensors").toString(), "missing", "vit.encoder.layer.2.");
    }

    @Test
    void unknownNaming() throws IOException {
        Path dir = folderWith(t -> {
            Map<String, Tensor> renamed = new LinkedHashMap<>();
            t.forEach((k, v) -> renamed.put(k.replace("vit.encoder.layer.", "model.layers."), v));
            t.clear();
            t.putAll(renamed);
        });
        assertMentions(loadFails(dir), dir.resolve("model.safetensors").toString(), "not a ViT checkpoint");
    }

    @Test
    void timmGlobalPoolingIsRefused() throws IOException {
        Files.copy(Fixtures.vitTiny("timm/config.json"), tmp.resolve("config.json"));
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try (SafetensorsReader r = SafetensorsReader.open(Fixtures.vitTiny("timm/model.safetensors"))) {
            for (String name : r.names()) {
                tensors.put(name, new Tensor(r.readFloats(name), r.info(name).shape()));
            }
        }
        tensors.put("fc_norm.weight", new Tensor(new float[32], new long[] {32}));
        tensors.put("fc_norm.bias", new Tensor(new float[32], new long[] {32}));
        writeTensors(tmp.resolve("model.safetensors"), tensors);
        assertMentions(loadFails(tmp), tmp.resolve("model.safetensors").toString(), "fc_norm");
    }

    @Test
    void vitModelCheckpointWithoutPrefixOrClassifierLoadsWithARandomHead() throws IOException {
        Map<String, Tensor> original = fixtureTensors();
        Path dir = folderWith(t -> {
            Map<String, Tensor> backbone = new LinkedHashMap<>();
            t.forEach((k, v) -> {
                if (k.startsWith("vit.")) {
                    backbone.put(k.substring("vit.".length()), v);
                }
            });
            // transformers' ViTModel also carries a pooler, unused for classification.
            backbone.put("pooler.dense.weight", new Tensor(new float[32 * 32], new long[] {32, 32}));
            backbone.put("pooler.dense.bias", new Tensor(new float[32], new long[] {32}));
            t.clear();
            t.putAll(backbone);
        });
        VitForImageClassification model = VitCheckpoint.load(dir, manager);
        assertEquals(VitNaming.HF, model.config().naming());
        Map<String, Parameter> params = model.namedParameters();
        assertClose(original.get(QUERY_0).data(), params.get(QUERY_0).getArray().toFloatArray(), 0f);
        float[] head = params.get("classifier.weight").getArray().toFloatArray();
        assertEquals(5 * 32, head.length);
        assertTrue(org.peft4j.Fixtures.maxAbsDiff(original.get("classifier.weight").data(), head) > 1e-3, "the head is new");

        // With the fixture head put back, the model is the fixture model.
        params.get("classifier.weight").getArray().set(original.get("classifier.weight").data());
        params.get("classifier.bias").getArray().set(original.get("classifier.bias").data());
        assertClose(Fixtures.expected("logits"),
                model.forward(Fixtures.input("pixel_values", manager), false).toFloatArray(), TOLERANCE);
    }
}
