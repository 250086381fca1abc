package org.peft4j.tuners;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.PatternSyntaxException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Hugging Face PEFT's target-matching rules (check_target_module_exists, get_pattern_key). */
class TargetModulesTest {

    private static final String HF_QUERY_0 = "vit.encoder.layer.0.attention.attention.query";
    private static final String HF_QUERY_1 = "vit.encoder.layer.1.attention.attention.query";
    private static final String HF_VALUE_1 = "vit.encoder.layer.1.attention.attention.value";
    private static final String HF_HEAD = "classifier";

    @Test
    void listEntryMatchesTheWholePathOrADottedSuffixNotASubstring() {
        TargetModules t = TargetModules.of("query");
        assertTrue(t.matches(HF_QUERY_0, HF_HEAD));
        assertTrue(t.matches("query", HF_HEAD), "a top-level module equal to the entry");
        assertFalse(t.matches("my_query_proj", HF_HEAD));
        assertFalse(t.matches("vit.my_query_proj", HF_HEAD));
        assertFalse(t.matches("vit.subquery", HF_HEAD), "suffix without a dot boundary");
        assertFalse(t.matches("vit.query.dense", HF_HEAD), "entry in the middle of the path");
        assertFalse(t.matches("vit.encoder.layer.0.attention.attention.key", HF_HEAD));
    }

    @Test
    void multiSegmentListEntryMatchesAtADotBoundary() {
        TargetModules t = TargetModules.of("attention.output.dense");
        assertTrue(t.matches("vit.encoder.layer.0.attention.output.dense", HF_HEAD));
        assertFalse(t.matches("vit.encoder.layer.0.output.dense", HF_HEAD));
        assertFalse(t.matches("vit.encoder.layer.0.xattention.output.dense", HF_HEAD));
    }

    @Test
    void regexMustMatchTheWholePath() {
        TargetModules t = TargetModules.regex(".*\\.(query|value)");
        assertTrue(t.matches(HF_QUERY_0, HF_HEAD));
        assertTrue(t.matches(HF_VALUE_1, HF_HEAD));
        assertFalse(t.matches("vit.encoder.layer.0.attention.attention.key", HF_HEAD));
        assertFalse(t.matches("vit.query_proj", HF_HEAD), "re.fullmatch, not re.search");
        // A bare name as a regex is a full match too: it does not act like a list entry.
        assertFalse(TargetModules.regex("query").matches(HF_QUERY_0, HF_HEAD));
        assertTrue(TargetModules.regex("query").matches("query", HF_HEAD));
        assertTrue(TargetModules.regex("vit\\.encoder\\.layer\\.1\\..*").matches(HF_QUERY_1, HF_HEAD));
        assertFalse(TargetModules.regex("vit\\.encoder\\.layer\\.1\\..*").matches(HF_QUERY_0, HF_HEAD));
    }

    @Test
    void allLinearTakesEveryPathButTheHead() {
        TargetModules t = TargetModules.of(TargetModules.ALL_LINEAR);
        assertTrue(t.isAllLinear());
        assertTrue(t.matches(HF_QUERY_0, HF_HEAD));
        assertTrue(t.matches("vit.encoder.layer.1.intermediate.dense", HF_HEAD));
        assertFalse(t.matches(HF_HEAD, HF_HEAD));
        assertTrue(TargetModules.of(TargetModules.ALL_LINEAR).matches("blocks.0.attn.qkv", "head"));
        assertFalse(TargetModules.of(TargetModules.ALL_LINEAR).matches("head", "head"));
        assertFalse(TargetModules.of("query", TargetModules.ALL_LINEAR).isAllLinear(),
                "all-linear is a keyword only on its own");
    }

    @Test
    void excludedModulesAreNeverTargeted() {
        TargetModules t = new TargetModules(List.of("query", "value"), null, List.of("layer.1.attention.attention.query"), null);
        assertTrue(t.matches(HF_QUERY_0, HF_HEAD));
        assertFalse(t.matches(HF_QUERY_1, HF_HEAD));
        assertTrue(t.matches(HF_VALUE_1, HF_HEAD));

        TargetModules all = new TargetModules(List.of(TargetModules.ALL_LINEAR), null, List.of("value"), null);
        assertTrue(all.matches(HF_QUERY_1, HF_HEAD));
        assertFalse(all.matches(HF_VALUE_1, HF_HEAD));

        TargetModules regex = new TargetModules(null, ".*\\.(query|value)", List.of("value"), null);
        assertTrue(regex.matches(HF_QUERY_1, HF_HEAD));
        assertFalse(regex.matches(HF_VALUE_1, HF_HEAD));
        // Exclusion uses the list rule too: "uery" is not a dotted suffix of the query path.
        assertTrue(new TargetModules(List.of("query"), null, List.of("uery"), null).matches(HF_QUERY_1, HF_HEAD));
    }

    @Test
    void layersToTransformWithHuggingFacePaths() {
        TargetModules t = new TargetModules(List.of("query", "value"), null, null, List.of(1));
        assertFalse(t.matches(HF_QUERY_0, HF_HEAD));
        assertTrue(t.matches(HF_QUERY_1, HF_HEAD));
        assertTrue(t.matches(HF_VALUE_1, HF_HEAD));
        assertFalse(t.matches("vit.encoder.layer.11.attention.attention.query", HF_HEAD), "11 is not 1");
        assertTrue(new TargetModules(List.of("query"), null, null, List.of(0, 11))
                .matches("vit.encoder.layer.11.attention.attention.query", HF_HEAD));
        // A path without any layer index is outside every listed layer.
        assertFalse(new TargetModules(List.of("classifier"), null, null, List.of(0)).matches(HF_HEAD, "x"));
    }

    @Test
    void layersToTransformWithTimmPaths() {
        TargetModules t = new TargetModules(List.of("qkv"), null, null, List.of(1));
        assertFalse(t.matches("blocks.0.attn.qkv", "head"));
        assertTrue(t.matches("blocks.1.attn.qkv", "head"));
        assertFalse(t.matches("blocks.10.attn.qkv", "head"));
        TargetModules regex = new TargetModules(null, ".*\\.(qkv|fc1)", null, List.of(0));
        assertTrue(regex.matches("blocks.0.attn.qkv", "head"));
        assertTrue(regex.matches("blocks.0.mlp.fc1", "head"));
        assertFalse(regex.matches("blocks.1.mlp.fc1", "head"));
    }

    @Test
    void patternKeyMatchesTheEndOfThePathAtADotBoundaryAsPeft() {
        assertEquals("value", TargetModules.patternKey(List.of("value"), HF_VALUE_1));
        assertEquals("value", TargetModules.patternKey(List.of("value"), "value"));
        assertNull(TargetModules.patternKey(List.of("value"), "vit.my_value"));
        assertNull(TargetModules.patternKey(List.of("value"), "vit.value.dense"), "anchored at the end");
        assertNull(TargetModules.patternKey(List.of("query"), HF_VALUE_1));
        // Keys are regular expressions: (.*\.)?(key)$
        assertEquals("layer\\.1\\..*query", TargetModules.patternKey(List.of("layer\\.1\\..*query"), HF_QUERY_1));
        assertNull(TargetModules.patternKey(List.of("layer\\.1\\..*query"), HF_QUERY_0));
        assertEquals("attention\\.(query|value)",
                TargetModules.patternKey(List.of("attention\\.(query|value)"), HF_VALUE_1));
        assertNull(TargetModules.patternKey(List.of(), HF_QUERY_0));
    }

    @Test
    void patternKeyReturnsTheFirstMatchingKeyInOrder() {
        Map<String, Integer> ranks = new LinkedHashMap<>();
        ranks.put("layer\\.1\\..*query", 4);
        ranks.put("query", 2);
        assertEquals("layer\\.1\\..*query", TargetModules.patternKey(ranks.keySet(), HF_QUERY_1));
        assertEquals("query", TargetModules.patternKey(ranks.keySet(), HF_QUERY_0));
    }

    @Test
    void namesAndRegexAreExclusiveAndBadRegexFailsEarly() {
        assertThrows(IllegalArgumentException.class, () -> new TargetModules(null, null, null, null));
        assertThrows(IllegalArgumentException.class, () -> new TargetModules(List.of("q"), ".*", null, null));
        assertThrows(PatternSyntaxException.class, () -> TargetModules.regex("(query"));
    }

    @Test
    void listsAreCopiedSoLaterChangesDoNotLeakIn() {
        List<String> names = new java.util.ArrayList<>(List.of("query"));
        TargetModules t = new TargetModules(names, null, null, null);
        names.add("value");
        assertFalse(t.matches(HF_VALUE_1, HF_HEAD));
        assertEquals(List.of(), t.exclude());
        assertNull(t.layersToTransform());
    }
}
