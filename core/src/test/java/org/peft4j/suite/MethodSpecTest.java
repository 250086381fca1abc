package org.peft4j.suite;

import org.junit.jupiter.api.Test;
import org.peft4j.peft.MethodOptions;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MethodSpecTest {

    @Test
    void aBareNameTakesTheDefaults() {
        MethodSpec s = MethodSpec.parse("lora");
        assertEquals("lora", s.label());
        assertEquals("lora", s.method());
        assertEquals(MethodOptions.DEFAULTS, s.options());
    }

    @Test
    void optionsFollowTheNameAfterColons() {
        MethodSpec s = MethodSpec.parse("lora:rank=4:alpha=8:rslora=true:target=query+value");
        assertEquals("lora:rank=4:alpha=8:rslora=true:target=query+value", s.label());
        assertEquals(4, s.options().rank());
        assertEquals(8.0, s.options().alpha());
        assertEquals(true, s.options().rslora());
        assertEquals(List.of("query", "value"), s.options().targets());
        assertNull(s.options().dropout());

        MethodSpec m = MethodSpec.parse("mlae:rank=4:mask=fixed:fixed-experts=0+2:drop-rate=0.25");
        assertEquals(List.of(0, 2), m.options().fixedExperts());
        assertEquals("fixed", m.options().mask());
        assertEquals(0.25, m.options().dropRate());

        assertEquals(List.of(1), MethodSpec.parse("vpt-deep:prompt-len=4:layers=1").options().layers());
        assertEquals(4, MethodSpec.parse("vpt-deep:prompt-len=4").options().promptLength());
    }

    @Test
    void aRegexTargetIsTakenWholeColonsAndPlusesIncluded() {
        assertEquals(List.of("re:.*\\.(query|value)+"),
                MethodSpec.parse("lora:target=re:.*\\.(query|value)+:rank=2").options().targets());
        assertEquals(List.of("re:a:b"), MethodSpec.parse("lora:target=re:a:b").options().targets());
    }

    @Test
    void aListIsSplitAtCommasAndEachSpecParsed() {
        List<MethodSpec> specs = MethodSpec.parseList("head, lora:rank=4,mlae");
        assertEquals(List.of("head", "lora:rank=4", "mlae"), specs.stream().map(MethodSpec::label).toList());
    }

    @Test
    void badSpecsNameWhatIsWrong() {
        assertMessage("unknown method 'nope'", () -> MethodSpec.parse("nope"));
        assertMessage("unknown method 'lorra'", () -> MethodSpec.parse("lorra:rank=4"));
        assertMessage("lora takes no option 'bottleneck'", () -> MethodSpec.parse("lora:bottleneck=4"));
        assertMessage("head takes no option 'rank' (it takes none)", () -> MethodSpec.parse("head:rank=2"));
        assertMessage("bad value 'four' for rank", () -> MethodSpec.parse("lora:rank=four"));
        assertMessage("bad value 'yes' for rslora", () -> MethodSpec.parse("lora:rslora=yes"));
        assertMessage("expected KEY=VALUE", () -> MethodSpec.parse("lora:rank"));
        assertMessage("option 'rank' given twice", () -> MethodSpec.parse("lora:rank=2:rank=4"));
        assertMessage("method 'lora' is given twice", () -> MethodSpec.parseList("lora,lora"));
        assertMessage("empty method", () -> MethodSpec.parseList("lora,,mlae"));
    }

    @Test
    void checkTriesTheConfigOnAnUntrainedModelOfTheArchitecture() {
        MethodSpec.parse("lora:rank=2").check(TinyVit.CONFIG);
        MethodSpec.parse("full").check(TinyVit.CONFIG);
        assertMessage("'lora:init=sideways'", () -> MethodSpec.parse("lora:init=sideways").check(TinyVit.CONFIG));
        assertMessage("'lora:target=nowhere'", () -> MethodSpec.parse("lora:target=nowhere").check(TinyVit.CONFIG));
    }

    private static void assertMessage(String expected, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
