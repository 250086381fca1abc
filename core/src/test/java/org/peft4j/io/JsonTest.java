package org.peft4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Expected strings were produced by Python 3's json.dumps(value, indent=2, sort_keys=True). */
class JsonTest {

    @Test
    void adapterConfigLikeMapMatchesPython() {
        Map<String, Object> nested = new LinkedHashMap<>();
        nested.put("b", Arrays.asList(1, List.of(2, 3), Map.of()));
        nested.put("a", true);
        Map<String, Object> config = new HashMap<>();
        config.put("r", 16);
        config.put("lora_alpha", 16.0);
        config.put("lora_dropout", 0.05);
        config.put("target_modules", List.of("query", "value"));
        config.put("bias", "none");
        config.put("fan_in_fan_out", false);
        config.put("modules_to_save", null);
        config.put("layers_to_transform", List.of());
        config.put("rank_pattern", Map.of());
        config.put("eps", 1e-05);
        config.put("big", 1e20);
        config.put("nested", nested);
        config.put("text", "caf\u00e9 \"q\" \\ \n\t\u0001 \u007f \uD83D\uDE00 /");

        String expected = "{\n"
                + "  \"bias\": \"none\",\n"
                + "  \"big\": 1e+20,\n"
                + "  \"eps\": 1e-05,\n"
                + "  \"fan_in_fan_out\": false,\n"
                + "  \"layers_to_transform\": [],\n"
                + "  \"lora_alpha\": 16.0,\n"
                + "  \"lora_dropout\": 0.05,\n"
                + "  \"modules_to_save\": null,\n"
                + "  \"nested\": {\n"
                + "    \"a\": true,\n"
                + "    \"b\": [\n"
                + "      1,\n"
                + "      [\n"
                + "        2,\n"
                + "        3\n"
                + "      ],\n"
                + "      {}\n"
                + "    ]\n"
                + "  },\n"
                + "  \"r\": 16,\n"
                + "  \"rank_pattern\": {},\n"
                + "  \"target_modules\": [\n"
                + "    \"query\",\n"
                + "    \"value\"\n"
                + "  ],\n"
                + "  \"text\": \"caf\\u00e9 \\\"q\\\" \\\\ \\n\\t\\u0001 \\u007f \\ud83d\\ude00 /\"\n"
                + "}";
        assertEquals(expected, Json.toPythonStyle(config));
    }

    @Test
    void numbersMatchPythonRepr() {
        List<Object> values = new ArrayList<>(List.of(Double.NaN, Double.POSITIVE_INFINITY,
                Double.NEGATIVE_INFINITY, -0.0, 0.0001, 1e16, 1e15, 123456789.125, 9007199254740992L, -7));
        values.add(new java.math.BigInteger("100000000000000000000"));
        String expected = "[\n  NaN,\n  Infinity,\n  -Infinity,\n  -0.0,\n  0.0001,\n  1e+16,\n"
                + "  1000000000000000.0,\n  123456789.125,\n  9007199254740992,\n  -7,\n"
                + "  100000000000000000000\n]";
        assertEquals(expected, Json.toPythonStyle(values));
    }

    @Test
    void floatReprIsShortestRoundTrip() {
        // Python: repr(0.1 + 0.2), repr(1/3), repr(2**50 + 0.25) (a tie, resolved to even),
        // repr(5e-324), repr(1.7976931348623157e308), repr(123456789012345678.0), repr(1e22)
        assertEquals("0.30000000000000004", PythonFloats.repr(0.1 + 0.2));
        assertEquals("0.3333333333333333", PythonFloats.repr(1.0 / 3));
        assertEquals("1125899906842624.2", PythonFloats.repr(Math.pow(2, 50) + 0.25));
        assertEquals("5e-324", PythonFloats.repr(Double.MIN_VALUE));
        assertEquals("1.7976931348623157e+308", PythonFloats.repr(Double.MAX_VALUE));
        assertEquals("1.2345678901234568e+17", PythonFloats.repr(123456789012345678.0));
        assertEquals("1e+22", PythonFloats.repr(1e22));
        assertEquals("9.999e-05", PythonFloats.repr(0.00009999));
    }

    @Test
    void javaFloatsMeanTheirShortestDecimal() {
        // 0.05f is 0.05000000074505806 as a double; a config author who wrote 0.05f meant 0.05.
        assertEquals("[\n  0.05,\n  1e-05,\n  16.0\n]", Json.toPythonStyle(new float[] {0.05f, 1e-5f, 16f}));
    }

    @Test
    void keysSortByCodePointLikePython() {
        Map<String, Integer> map = new HashMap<>();
        map.put("\uD83D\uDE00", 1); // U+1F600 sorts after U+FFFF in Python, before it in UTF-16
        map.put("\uffff", 2);
        map.put("a", 3);
        map.put("B", 4);
        map.put("", 5);
        String expected = "{\n  \"\": 5,\n  \"B\": 4,\n  \"a\": 3,\n  \"\\uffff\": 2,\n  \"\\ud83d\\ude00\": 1\n}";
        assertEquals(expected, Json.toPythonStyle(map));
    }

    @Test
    void scalarsAndEmptyContainers() {
        assertEquals("\"x\"", Json.toPythonStyle("x"));
        assertEquals("{}", Json.toPythonStyle(Map.of()));
        assertEquals("[]", Json.toPythonStyle(List.of()));
        assertEquals("null", Json.toPythonStyle(null));
    }

    record Sample(String name, double alpha, List<Integer> layers) {}

    @Test
    void recordsAndJsonNodesGoThroughTheMapper() throws Exception {
        String expected = "{\n  \"alpha\": 0.5,\n  \"layers\": [\n    0,\n    11\n  ],\n  \"name\": \"vit\"\n}";
        assertEquals(expected, Json.toPythonStyle(new Sample("vit", 0.5, List.of(0, 11))));
        JsonNode node = Json.MAPPER.readTree("{\"name\":\"vit\",\"layers\":[0,11],\"alpha\":0.5}");
        assertEquals(expected, Json.toPythonStyle(node));
    }

    @Test
    void nonStringKeysAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> Json.toPythonStyle(Map.of(1, "a")));
    }

    @Test
    void mapperRejectsDuplicateKeysAndTrailingContent() {
        assertThrows(JsonProcessingException.class, () -> Json.MAPPER.readTree("{\"a\":1,\"a\":2}"));
        assertThrows(JsonProcessingException.class, () -> Json.MAPPER.readTree("{\"a\":1} {}"));
    }
}
