package org.peft4j.vlsuite;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.train.VlFineTuningTest;
import org.peft4j.tuners.routing.Routing;
import org.peft4j.tuners.routing.RoutingConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A tiny suite: every cell runs once, a rerun reuses them, the report has every table and file. */
class VlSuiteTest {

    @TempDir
    Path tmp;

    @Test
    void runsResumesAndReports() throws Exception {
        Path text = VlFineTuningTest.tinyTextModel(tmp.resolve("text"));
        Path vision = Path.of("src/test/resources/fixtures/vit-tiny/hf");
        VlSuiteRunner.Profile tiny = new VlSuiteRunner.Profile("tiny", 48, 12, 1, 10, 4, 1, 2);
        List<VlSuiteRunner.Cell> cells = List.of(new VlSuiteRunner.Cell(RoutingConfig.Method.LORA, Routing.NONE),
                new VlSuiteRunner.Cell(RoutingConfig.Method.LORA, Routing.VL),
                new VlSuiteRunner.Cell(RoutingConfig.Method.CROSS_ATTN, Routing.NONE));
        Path out = tmp.resolve("suite");
        VlSuiteRunner.Plan plan = new VlSuiteRunner.Plan(List.of("vqa", "caption"), cells, 1, tiny, vision, text, out, false);
        VlSuiteRunner.Result first = VlSuiteRunner.run(plan);
        assertEquals(6, first.executed());
        VlSuiteReport.write(first, out);
        for (String f : VlSuiteReport.FILES) {
            assertTrue(Files.size(out.resolve(f)) > 100, f);
        }
        String md = Files.readString(out.resolve("results.md"));
        assertTrue(md.contains("| lora |") && md.contains("| cross-attn |") && md.contains("CIDEr-D"), md);
        assertTrue(md.contains("relational"), md);
        assertTrue(Files.readString(out.resolve("report.html")).contains("<img"), "example images in the report");
        assertEquals(7, Files.readAllLines(out.resolve("results.csv")).size());

        VlSuiteRunner.Result again = VlSuiteRunner.run(plan);
        assertEquals(0, again.executed());
        assertEquals(6, again.reused());

        VlSuiteRunner.Profile other = new VlSuiteRunner.Profile("tiny", 48, 12, 2, 10, 4, 1, 2);
        assertThrows(org.peft4j.suite.SuiteFolder.SettingsMismatch.class, () -> VlSuiteRunner.run(
                new VlSuiteRunner.Plan(List.of("vqa"), cells, 1, other, vision, text, out, false)));
    }

    @Test
    void cellsParse() {
        assertEquals("lora/vl", VlSuiteRunner.Cell.parse("lora:vl").label());
        assertEquals("cross-attn", VlSuiteRunner.Cell.parse("cross-attn").label());
        assertEquals("adapter/mul_expand", VlSuiteRunner.Cell.parse("adapter:element_mul_expand").label());
        assertEquals(11, VlSuiteRunner.allCells().size());
        // cross-attention is the unrouted baseline
        assertThrows(IllegalArgumentException.class, () -> new RoutingConfig(RoutingConfig.Method.CROSS_ATTN, Routing.VL, 4, 4, 0,
                null, null, 0, "relu", List.of()));
    }
}
