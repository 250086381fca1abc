package org.peft4j.tuners.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.peft4j.Fixtures;
import org.peft4j.io.Json;
import org.peft4j.tuners.TargetModules;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** LoraConfig reads and writes Hugging Face PEFT's adapter_config.json and computes per-module ranks and scales. */
class LoraConfigTest {

    private static final String QUERY_0 = "vit.encoder.layer.0.attention.attention.query";
    private static final String QUERY_1 = "vit.encoder.layer.1.attention.attention.query";
    private static final String VALUE_0 = "vit.encoder.layer.0.attention.attention.value";

    private static LoraConfig full(TargetModules targets, LoraConfig.Init init, List<Boolean> enableLora) {
        Map<String, Integer> ranks = new LinkedHashMap<>();
        ranks.put("value", 2);
        ranks.put("layer\\.1\\..*query", 3);
        Map<String, Double> alphas = new LinkedHashMap<>();
        alphas.put("query", 7.5);
        return new LoraConfig(6, 12.5, 0.05, targets, true, ranks, alphas, LoraConfig.Bias.LORA_ONLY,
                List.of("classifier"), init, enableLora, "google/vit-base-patch16-224-in21k");
    }

    /** Through the text PEFT would read: Python-style JSON, parsed again. */
    private static LoraConfig roundTrip(LoraConfig c) throws IOException {
        return LoraConfig.fromJson(Json.MAPPER.readTree(Json.toPythonStyle(c.toJson())));
    }

    private static ObjectNode minimal() {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("peft_type", "LORA");
        o.put("r", 4);
        o.put("lora_alpha", 8);
        o.putArray("target_modules").add("query").add("value");
        return o;
    }

    @Test
    void jsonRoundTripKeepsEveryField() throws IOException {
        LoraConfig listTargets = full(new TargetModules(List.of("query", "value"), null,
                List.of("layer.1.attention.attention.value"), List.of(0, 1)), LoraConfig.Init.GAUSSIAN, null);
        assertEquals(listTargets, roundTrip(listTargets));

        LoraConfig regexTargets = full(TargetModules.regex(".*\\.(qkv|fc1)"), LoraConfig.Init.RANDOM,
                List.of(true, false, true));
        LoraConfig again = roundTrip(regexTargets);
        assertEquals(regexTargets, again);
        assertEquals(".*\\.(qkv|fc1)", again.targetModules().regex());
        assertEquals(List.of(true, false, true), again.enableLora());

        LoraConfig plain = LoraConfig.of(8, 16, TargetModules.of("query", "value"));
        assertEquals(plain, roundTrip(plain));
        assertEquals(LoraConfig.Init.KAIMING, roundTrip(plain).init());
    }

    @Test
    void writtenJsonHasPeftTypesAndValues() {
        JsonNode j = Json.MAPPER.valueToTree(full(TargetModules.of("value", "query"), LoraConfig.Init.GAUSSIAN, null).toJson());
        assertEquals("LORA", j.get("peft_type").asText());
        assertEquals(6, j.get("r").asInt());
        assertTrue(j.get("r").isIntegralNumber());
        assertEquals(12.5, j.get("lora_alpha").asDouble());
        assertTrue(LoraConfig.of(4, 8, TargetModules.of("q")).toJson().get("lora_alpha") instanceof Long,
                "a whole alpha is written as an int, as Python does");
        assertEquals("lora_only", j.get("bias").asText());
        assertEquals("gaussian", j.get("init_lora_weights").asText());
        assertEquals("[\"query\",\"value\"]", j.get("target_modules").toString(), "sorted, as PEFT's set");
        assertEquals(2, j.get("rank_pattern").get("value").asInt());
        assertEquals(7.5, j.get("alpha_pattern").get("query").asDouble());
        assertTrue(j.get("use_rslora").asBoolean());
        assertFalse(j.get("use_dora").asBoolean());
        assertFalse(j.get("fan_in_fan_out").asBoolean());
        assertFalse(j.has("enable_lora"), "the peft4j extension is written only when used");
        assertTrue(j.get("layers_to_transform").isNull());
        assertTrue(j.get("exclude_modules").isNull());
    }

    @Test
    void readsThePeftWrittenFixture() throws IOException {
        LoraConfig c = LoraConfig.fromJson(Json.MAPPER.readTree(Fixtures.vitTiny("peft-lora-hf/adapter_config.json").toFile()));
        assertEquals(4, c.r());
        assertEquals(8.0, c.loraAlpha());
        assertEquals(0.1, c.loraDropout());
        assertEquals(List.of("query", "value"), c.targetModules().names());
        assertNull(c.targetModules().layersToTransform());
        assertEquals(Map.of("value", 2), c.rankPattern());
        assertEquals(List.of("classifier"), c.modulesToSave());
        assertEquals(LoraConfig.Bias.NONE, c.bias());
        assertEquals(LoraConfig.Init.KAIMING, c.init());
        assertEquals("vit-tiny", c.baseModelNameOrPath());
        assertNull(c.enableLora());
        assertEquals(4, c.rankFor(QUERY_0));
        assertEquals(2, c.rankFor(VALUE_0));
        assertEquals(2.0, c.scalingFor(QUERY_0));
        assertEquals(4.0, c.scalingFor(VALUE_0));
    }

    @Test
    void rankAndAlphaPatternsOverrideThePathsTheyMatch() {
        Map<String, Integer> ranks = new LinkedHashMap<>();
        ranks.put("value", 2);
        ranks.put("layer\\.1\\..*query", 4);
        LoraConfig c = new LoraConfig(8, 16, 0, TargetModules.of("query", "value"), false, ranks,
                Map.of("query", 32.0), LoraConfig.Bias.NONE, null, LoraConfig.Init.KAIMING, null, null);
        assertEquals(8, c.rankFor(QUERY_0));
        assertEquals(4, c.rankFor(QUERY_1));
        assertEquals(2, c.rankFor(VALUE_0));
        assertEquals(8, c.rankFor("vit.my_value"), "not a dotted suffix");
        assertEquals(32.0, c.alphaFor(QUERY_0));
        assertEquals(16.0, c.alphaFor(VALUE_0));
        assertEquals(32.0 / 8, c.scalingFor(QUERY_0));
        assertEquals(32.0 / 4, c.scalingFor(QUERY_1));
        assertEquals(16.0 / 2, c.scalingFor(VALUE_0));
    }

    @Test
    void rsLoraScalesByTheSquareRootOfTheRank() {
        LoraConfig c = new LoraConfig(4, 8, 0, TargetModules.of("query", "value"), true, Map.of("value", 16),
                null, LoraConfig.Bias.NONE, null, LoraConfig.Init.KAIMING, null, null);
        assertEquals(8 / 2.0, c.scalingFor(QUERY_0), 1e-12);
        assertEquals(8 / 4.0, c.scalingFor(VALUE_0), 1e-12);
        LoraConfig plain = new LoraConfig(4, 8, 0, TargetModules.of("query"), false, null,
                null, LoraConfig.Bias.NONE, null, LoraConfig.Init.KAIMING, null, null);
        assertEquals(2.0, plain.scalingFor(QUERY_0), 1e-12);
    }

    @Test
    void unimplementedOptionsAreRefusedNamingTheKey() {
        ObjectNode conv1d = minimal().put("fan_in_fan_out", true);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LoraConfig.fromJson(conv1d));
        assertTrue(e.getMessage().contains("fan_in_fan_out"), e.getMessage());

        ObjectNode replication = minimal();
        replication.putArray("layer_replication").addArray().add(0).add(2);
        e = assertThrows(IllegalArgumentException.class, () -> LoraConfig.fromJson(replication));
        assertTrue(e.getMessage().contains("layer_replication"), e.getMessage());

        // The same keys at their defaults are fine.
        LoraConfig.fromJson(minimal().put("use_dora", false).put("fan_in_fan_out", false).putNull("layer_replication"));
    }

    @Test
    void otherBadValuesAreRefusedNamingTheKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LoraConfig.fromJson(minimal().put("peft_type", "IA3")));
        assertTrue(e.getMessage().contains("peft_type"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LoraConfig.fromJson(minimal().put("bias", "some")));
        assertTrue(e.getMessage().contains("bias"), e.getMessage());
        ObjectNode noTargets = minimal();
        noTargets.remove("target_modules");
        e = assertThrows(IllegalArgumentException.class, () -> LoraConfig.fromJson(noTargets));
        assertTrue(e.getMessage().contains("target_modules"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LoraConfig.fromJson(minimal().put("r", 0)));
        assertTrue(e.getMessage().contains("r must be positive"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LoraConfig.fromJson(minimal().put("lora_dropout", 1.0)));
        assertTrue(e.getMessage().contains("lora_dropout"), e.getMessage());
        ObjectNode noSlice = minimal();
        noSlice.putArray("enable_lora").add(false).add(false).add(false);
        e = assertThrows(IllegalArgumentException.class, () -> LoraConfig.fromJson(noSlice));
        assertTrue(e.getMessage().contains("enable_lora"), e.getMessage());
    }

    @Test
    void unknownKeysAreTolerated() {
        ObjectNode o = minimal();
        o.put("some_future_option", "x");
        o.putObject("another_one").put("a", 1);
        LoraConfig c = LoraConfig.fromJson(o);
        assertEquals(4, c.r());
        assertEquals(List.of("query", "value"), c.targetModules().names());
    }

    @Test
    void targetModulesAsAStringIsARegex() {
        ObjectNode o = minimal().put("target_modules", ".*\\.(query|value)");
        LoraConfig c = LoraConfig.fromJson(o);
        assertEquals(".*\\.(query|value)", c.targetModules().regex());
        assertNull(c.targetModules().names());
        assertTrue(c.targetModules().matches(QUERY_0, "classifier"));
        assertFalse(c.targetModules().matches("vit.encoder.layer.0.attention.attention.key", "classifier"));
        assertFalse(LoraConfig.fromJson(minimal().put("target_modules", "query"))
                .targetModules().matches(QUERY_0, "classifier"), "a string is a full-match regex, not a name");
    }

    @Test
    void allLinearIsPeftsWildcardBothWays() {
        LoraConfig c = LoraConfig.fromJson(minimal().put("target_modules", "all-linear"));
        assertTrue(c.targetModules().isAllLinear(), "the string all-linear is the wildcard, not a regex");
        assertEquals("all-linear", c.toJson().get("target_modules"), "written as PEFT writes it");
        assertEquals(c, LoraConfig.fromJson(Json.MAPPER.valueToTree(c.toJson())));
    }

    @Test
    void doraIsRefusedOnASubsetOfAFusedLayer() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LoraConfig.fromJson(minimal().put("use_dora", true).set("enable_lora",
                        Json.MAPPER.valueToTree(List.of(true, false, true)))));
        assertTrue(e.getMessage().contains("enable_lora"), e.getMessage());
    }

    @Test
    void layersToTransformAsAnIntOrAList() {
        assertEquals(List.of(1), LoraConfig.fromJson(minimal().put("layers_to_transform", 1))
                .targetModules().layersToTransform());
        ObjectNode list = minimal();
        list.putArray("layers_to_transform").add(0).add(2);
        assertEquals(List.of(0, 2), LoraConfig.fromJson(list).targetModules().layersToTransform());
    }

    @Test
    void excludeModulesAsAStringIsARegexAsInPeft() {
        // PEFT: "exclude_modules ... When passing a string, a regex match will be performed."
        LoraConfig c = LoraConfig.fromJson(minimal().put("exclude_modules", ".*layer\\.1\\..*"));
        assertTrue(c.targetModules().matches(QUERY_0, "classifier"));
        assertFalse(c.targetModules().matches(QUERY_1, "classifier"), "layer 1 is excluded by the regex");
    }

    @Test
    void initLoraWeightsTrueFalseGaussianAndPissa() {
        assertEquals(LoraConfig.Init.KAIMING, LoraConfig.fromJson(minimal()).init());
        assertEquals(LoraConfig.Init.KAIMING, LoraConfig.fromJson(minimal().put("init_lora_weights", true)).init());
        assertEquals(LoraConfig.Init.RANDOM, LoraConfig.fromJson(minimal().put("init_lora_weights", false)).init());
        assertEquals(LoraConfig.Init.GAUSSIAN, LoraConfig.fromJson(minimal().put("init_lora_weights", "gaussian")).init());
        assertEquals(LoraConfig.Init.PISSA, LoraConfig.fromJson(minimal().put("init_lora_weights", "pissa")).init());
        assertEquals(LoraConfig.Init.PISSA, LoraConfig.fromJson(minimal().put("init_lora_weights", "pissa_niter_4")).init());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LoraConfig.fromJson(minimal().put("init_lora_weights", "olora")));
        assertTrue(e.getMessage().contains("init_lora_weights") && e.getMessage().contains("olora"), e.getMessage());
        assertTrue(LoraConfig.fromJson(minimal().put("use_dora", true)).useDora());
        assertThrows(IllegalArgumentException.class,
                () -> LoraConfig.fromJson(minimal().put("use_dora", true).put("init_lora_weights", "pissa")));
    }

    @Test
    void defaultsWhenKeysAreAbsent() {
        ObjectNode o = Json.MAPPER.createObjectNode().put("peft_type", "LORA");
        o.putArray("target_modules").add("query");
        LoraConfig c = LoraConfig.fromJson(o);
        assertEquals(8, c.r(), "PEFT's default r");
        assertEquals(8.0, c.loraAlpha(), "PEFT's default lora_alpha");
        assertEquals(0.0, c.loraDropout());
        assertFalse(c.useRslora());
        assertEquals(LoraConfig.Bias.NONE, c.bias());
        assertEquals(List.of(), c.modulesToSave());
        assertEquals(Map.of(), c.rankPattern());
        assertNull(c.baseModelNameOrPath());
    }

    @Test
    void withersChangeOnlyTheirField() {
        LoraConfig c = full(TargetModules.of("query"), LoraConfig.Init.GAUSSIAN, List.of(true, false, true));
        LoraConfig d = c.withDropout(0.3).withModulesToSave(List.of("head")).withBaseModel("other");
        assertEquals(0.3, d.loraDropout());
        assertEquals(List.of("head"), d.modulesToSave());
        assertEquals("other", d.baseModelNameOrPath());
        assertEquals(c, d.withDropout(c.loraDropout()).withModulesToSave(c.modulesToSave())
                .withBaseModel(c.baseModelNameOrPath()));
    }
}
