package org.peft4j.suite;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.data.suite.Suite;
import org.peft4j.data.suite.SuiteSizes;
import org.peft4j.data.suite.SuiteTask;
import org.peft4j.io.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The protocol end to end on a tiny random ViT and two generated tasks of a few dozen images. */
class SuiteRunnerTest {

    /** Tuning on (8 classes max) 16 train / 8 val images, 2 seeds on test 16; one epoch of batch 8. */
    static final SuiteProtocol TINY = new SuiteProtocol("tiny", new SuiteSizes(16, 8, 16), 1, 8, 0.01, 0.0, 2, true);
    static final List<SuiteTask> TASKS = List.of(Suite.task("textures"), Suite.task("dsprites-location"));
    static final List<MethodSpec> METHODS = MethodSpec.parseList("head,lora:rank=2");
    static final Map<String, Object> BACKBONE = Map.of("name", "tiny", "path", "tiny",
            "linear_probe", "n/a (custom model)");

    @TempDir
    static Path shared;
    static Path model;

    @BeforeAll
    static void saveModel() throws IOException {
        model = TinyVit.save(shared.resolve("tiny-vit"), 3);
    }

    static SuiteRunner.Plan plan(SuiteProtocol protocol, List<SuiteTask> tasks, List<MethodSpec> methods, Path out) {
        return new SuiteRunner.Plan(protocol, tasks, methods, model, BACKBONE, shared.resolve("no-fashion-mnist"), out,
                false);
    }

    @Test
    void anInterruptedSuiteResumesWithoutRedoingFinishedRuns(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("suite");
        // "Interrupted" after the head's runs on the first task: 2 tuning runs + 2 seeds.
        SuiteRunner.Result first = SuiteRunner.run(plan(TINY, TASKS.subList(0, 1), METHODS.subList(0, 1), out));
        assertEquals(4, first.executedRuns());
        assertEquals(0, first.reusedRuns());
        Path head = out.resolve("runs/textures/head");
        assertEquals(List.of("seed-0.json", "seed-1.json", "tune-lr=0.03.json", "tune-lr=0.1.json"), list(head));
        String before = Files.readString(head.resolve("seed-1.json"));

        SuiteRunner.Result all = SuiteRunner.run(plan(TINY, TASKS, METHODS, out));
        assertEquals(2 * 2 * 4 - 4, all.executedRuns(), "only what the first call had not done");
        assertEquals(4, all.reusedRuns());
        assertEquals(before, Files.readString(head.resolve("seed-1.json")), "finished runs are not rewritten");
        assertEquals(List.of("seed-0.json", "seed-1.json", "tune-lr=0.003.json", "tune-lr=0.01.json"),
                list(out.resolve("runs/dsprites-location/lora:rank=2")));

        SuiteRunner.Result again = SuiteRunner.run(plan(TINY, TASKS, METHODS, out));
        assertEquals(0, again.executedRuns());
        assertEquals(16, again.reusedRuns());
        assertEquals(SuiteReport.json(all.results()), SuiteReport.json(again.results()));

        // A third seed later trains only the new seed runs (the settings do not depend on the seed count).
        SuiteRunner.Result moreSeeds = SuiteRunner.run(plan(TINY.withSeeds(3), TASKS, METHODS, out));
        assertEquals(4, moreSeeds.executedRuns());
        assertFalse(Files.list(out).anyMatch(p -> p.getFileName().toString().startsWith(".run-")), "scratch removed");

        SuiteResults results = all.results();
        for (SuiteResults.MethodResult m : results.methods()) {
            for (SuiteResults.TaskResult t : m.tasks()) {
                assertEquals(2, t.seeds().size());
                assertEquals(2, t.tuning().size());
                assertTrue(TINY.learningRates(METHODS.get(results.methods().indexOf(m)).method())
                        .contains(t.learningRate()));
                assertTrue(t.mean() >= 0 && t.mean() <= 1);
            }
        }
        SuiteResults.MethodResult head0 = results.methods().get(0);
        SuiteResults.MethodResult lora = results.methods().get(1);
        assertTrue(head0.meanTrainableParams() < lora.meanTrainableParams());
        assertEquals(16 * 8 + 8, head0.tasks().get(1).trainableParams(), "the head of the 8-class task");
    }

    @Test
    void writesTheTablesJsonAndASelfContainedHtmlReport(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("suite");
        SuiteResults results = SuiteRunner.run(plan(TINY.withSeeds(1), TASKS, METHODS, out)).results();
        SuiteReport.write(results, out);
        for (String f : SuiteReport.FILES) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        String md = Files.readString(out.resolve("results.md"));
        assertTrue(md.contains("n/a (custom model)"), md);
        assertTrue(md.contains("| method | params | % of model | textures | dsprites-location | specialized | structured "
                + "| mean | s/run |"), md);
        assertTrue(md.contains("\n| head | ") && md.contains("\n| lora:rank=2 | "), md);
        assertEquals(1 + 2 * 2, Files.readAllLines(out.resolve("results.csv")).size());
        JsonNode json = Json.MAPPER.readTree(out.resolve("results.json").toFile());
        assertEquals("tiny", json.get("settings").get("protocol").get("profile").asText());
        assertEquals(64, json.get("settings").get("model").get("sha256").asText().length());
        assertEquals(2, json.get("methods").size());

        String html = Files.readString(out.resolve("report.html"));
        Matcher png = Pattern.compile("src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"").matcher(html);
        int images = 0;
        while (png.find()) {
            byte[] bytes = Base64.getDecoder().decode(png.group(1));
            assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, java.util.Arrays.copyOf(bytes, 4));
            images++;
        }
        assertEquals(3, images, "accuracy vs parameters, per task, per group");
        assertFalse(html.contains("src=\"http"), "nothing loaded from elsewhere");
        assertTrue(html.contains("<td>lora:rank=2</td>"), "the table");
    }

    @Test
    void aFolderWithOtherSettingsOrOtherContentIsRefused(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("suite");
        SuiteRunner.run(plan(TINY.withSeeds(1), TASKS.subList(1, 2), METHODS.subList(0, 1), out));
        String settings = Files.readString(out.resolve(SuiteRunner.SETTINGS_FILE));

        SuiteRunner.MismatchException epochs = assertThrows(SuiteRunner.MismatchException.class,
                () -> SuiteRunner.run(plan(TINY.withEpochs(2), TASKS, METHODS, out)));
        assertTrue(epochs.getMessage().contains("protocol.epochs: 1 there, 2 now"), epochs.getMessage());

        Path otherModel = TinyVit.save(tmp.resolve("other-vit"), 4);
        SuiteRunner.Plan p = plan(TINY, TASKS, METHODS, out);
        SuiteRunner.MismatchException weights = assertThrows(SuiteRunner.MismatchException.class,
                () -> SuiteRunner.run(new SuiteRunner.Plan(p.protocol(), p.tasks(), p.methods(), otherModel,
                        p.backbone(), p.fashionMnistDir(), out, false)));
        assertTrue(weights.getMessage().contains("model.sha256"), weights.getMessage());
        assertEquals(settings, Files.readString(out.resolve(SuiteRunner.SETTINGS_FILE)), "left as it was");
        assertEquals(List.of("head"), list(out.resolve("runs/dsprites-location")), "nothing ran");

        Path busy = Files.createDirectories(tmp.resolve("busy"));
        Files.writeString(busy.resolve("notes.txt"), "mine");
        SuiteRunner.MismatchException notSuite = assertThrows(SuiteRunner.MismatchException.class,
                () -> SuiteRunner.run(plan(TINY, TASKS, METHODS, busy)));
        assertTrue(notSuite.getMessage().contains("not empty and holds no results"), notSuite.getMessage());
        assertEquals(List.of("notes.txt"), list(busy));
    }

    private static List<String> list(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
