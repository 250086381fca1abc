package org.peft4j.mergestudy;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.data.suite.Suite;
import org.peft4j.data.suite.SuiteSizes;
import org.peft4j.data.suite.SuiteTask;
import org.peft4j.suite.SuiteProtocol;
import org.peft4j.suite.TinyVit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The merge study end to end on a tiny ViT and tiny splits: every pair and triple, reports, resuming. */
class MergeStudyTest {

    static final SuiteProtocol TINY = new SuiteProtocol("tiny", new SuiteSizes(20, 10, 24), 1, 8, 0.01, 0.0, 1, false);

    @TempDir
    static Path shared;
    static Path model;

    @BeforeAll
    static void model() throws IOException {
        model = TinyVit.save(shared.resolve("tiny-vit"), 3);
    }

    private static MergeStudy.Plan plan(Path out, String methods) {
        return plan(out, methods, 1.0);
    }

    private static MergeStudy.Plan plan(Path out, String methods, double weight) {
        List<SuiteTask> tasks = List.of(Suite.task("textures"), Suite.task("count"), Suite.task("glyph-digits"));
        return new MergeStudy.Plan(TINY, tasks, MergeStudy.MethodChoice.parseList(methods), List.of(2, 3), weight, model,
                Map.of("name", "tiny", "path", model.toString()), shared.resolve("no-fashion-mnist"), out, false);
    }

    @Test
    void mergesEveryPairAndTripleWritesTheReportsAndResumes(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("study");
        MergeStudy.Results r = MergeStudy.run(plan(out, "cat,task_arithmetic,ties:0.3"));
        assertEquals(6, r.trained(), "a LoRA and a head-only model per task");
        assertEquals(4 * 3, r.merged(), "3 pairs + 1 triple, 3 methods");
        assertEquals((3 * 2 + 3) * 3, r.merges().size(), "one score per task of each merge");
        for (MergeStudy.MergeScore cat : r.merges().stream().filter(s -> s.method().equals("cat")).toList()) {
            double ta = r.merges().stream().filter(s -> s.method().equals("task_arithmetic") && s.combo().equals(cat.combo())
                    && s.task().equals(cat.task())).findFirst().orElseThrow().accuracy();
            assertEquals(cat.accuracy(), ta, 1e-9, "cat and task arithmetic both add the scaled ΔW exactly");
        }
        Similarity.Matrices sim = r.similarity();
        for (String m : Similarity.MEASURES) {
            assertEquals(1.0, sim.get(m, "count", "count"), 1e-6, m);
            assertEquals(sim.get(m, "count", "textures"), sim.get(m, "textures", "count"), 1e-9, m);
        }
        StudyReport.write(r, out);
        for (String f : StudyReport.FILES) {
            assertTrue(Files.size(out.resolve(f)) > 0, f);
        }
        String md = Files.readString(out.resolve("results.md"));
        assertTrue(md.contains("| ties:0.3 |") && md.contains("pairs: merged") && md.contains("triples: drop"), md);
        assertEquals(1 + r.merges().size(), Files.readAllLines(out.resolve("results.csv")).size());
        assertTrue(Files.readString(out.resolve("report.html")).contains("data:image/png;base64,"));

        MergeStudy.Results again = MergeStudy.run(plan(out, "cat,task_arithmetic,ties:0.3"));
        assertEquals(0, again.trained());
        assertEquals(0, again.merged());
        assertEquals(r.merges(), again.merges());
        MergeStudy.Results more = MergeStudy.run(plan(out, "cat,linear"));
        assertEquals(4, more.merged(), "only the new method's merges run");
        MergeStudy.Results half = MergeStudy.run(plan(out, "cat", 0.5));
        assertEquals(0, half.trained(), "another weight reuses the trained adapters");
        assertEquals(4, half.merged());
        assertEquals(List.of("cat w=0.5"), half.methods());
    }

    @Test
    void badMethodListsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> MergeStudy.MethodChoice.parseList("cat,cat"));
        assertThrows(IllegalArgumentException.class, () -> MergeStudy.MethodChoice.parseList("linear:0.5"));
        assertThrows(IllegalArgumentException.class, () -> MergeStudy.MethodChoice.parseList("ties:1.5"));
        assertThrows(IllegalArgumentException.class, () -> MergeStudy.MethodChoice.parseList("adamerging"));
        assertEquals(0.5, MergeStudy.MethodChoice.parseList("ties").get(0).density());
    }
}
