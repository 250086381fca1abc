package org.peft4j.cli;

import org.junit.jupiter.api.Test;
import org.peft4j.io.Json;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Self times from a profiler trace: a parent's duration less its children's, summed by class. */
class OpProfileTest {

    @Test
    void selfTimesBySubtractingNestedChildren() throws Exception {
        String trace = "[{\"name\":\"aten::linear\",\"ph\":\"X\",\"ts\":0,\"dur\":100,\"tid\":1},"
                + "{\"name\":\"aten::t\",\"ph\":\"X\",\"ts\":1,\"dur\":4,\"tid\":1},"
                + "{\"name\":\"aten::addmm\",\"ph\":\"X\",\"ts\":10,\"dur\":80,\"tid\":1},"
                + "{\"name\":\"aten::copy_\",\"ph\":\"X\",\"ts\":20,\"dur\":10,\"tid\":1},"
                + "{\"name\":\"aten::gelu\",\"ph\":\"X\",\"ts\":120,\"dur\":30,\"tid\":1},"
                + "{\"name\":\"aten::softmax\",\"ph\":\"X\",\"ts\":0,\"dur\":50,\"tid\":2},"
                + "{\"name\":\"aten::_softmax\",\"ph\":\"X\",\"ts\":5,\"dur\":40,\"tid\":2}]";
        Map<String, Double> s = OpProfile.classify(Json.MAPPER.readTree(trace));
        assertEquals((100 - 4 - 80 + 80 - 10) / 1e6, s.get("matmul"), 1e-12); // linear self 16 + addmm self 70
        assertEquals((4 + 10) / 1e6, s.get("copy_reshape"), 1e-12);
        assertEquals(30 / 1e6, s.get("norm_activation"), 1e-12);
        assertEquals(50 / 1e6, s.get("softmax"), 1e-12); // another thread: its own nesting
        assertEquals("other", OpProfile.classOf("aten::some_new_op"));
    }
}
