package org.peft4j.suite;

import org.junit.jupiter.api.Test;
import org.peft4j.data.suite.Suite;
import org.peft4j.data.suite.SuiteTask;
import org.peft4j.data.suite.TaskGroup;
import org.peft4j.io.Json;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The aggregation and the tables as pure functions of hand-made run records. */
class SuiteResultsTest {

    private static final double EPS = 1e-12;
    private static final List<SuiteTask> TASKS = List.of(Suite.task("fashion-mnist"), Suite.task("glyph-digits"),
            Suite.task("count")); // natural, natural, structured

    static RunRecord seed(String task, String method, long seed, double accuracy, long params) {
        return new RunRecord(task, method, false, 3e-3, seed, accuracy, params, 1000, 2.0 + seed, 500);
    }

    static RunRecord tuning(String task, String method, double lr, double valAccuracy) {
        return new RunRecord(task, method, true, lr, 0, valAccuracy, 100, 1000, 1.0, 500);
    }

    /** Method a: three seeds per task and tuning on two tasks; method b: one seed per task. */
    static SuiteResults handMade() {
        List<RunRecord> runs = new ArrayList<>(List.of(
                seed("fashion-mnist", "a", 0, 0.5, 100), seed("fashion-mnist", "a", 1, 0.6, 100),
                seed("fashion-mnist", "a", 2, 0.7, 100),
                seed("glyph-digits", "a", 0, 0.8, 110), seed("glyph-digits", "a", 1, 0.8, 110),
                seed("glyph-digits", "a", 2, 0.8, 110),
                seed("count", "a", 2, 0.4, 105), seed("count", "a", 0, 0.2, 105), seed("count", "a", 1, 0.3, 105),
                tuning("fashion-mnist", "a", 3e-3, 0.7), tuning("fashion-mnist", "a", 1e-3, 0.7),
                tuning("glyph-digits", "a", 1e-3, 0.5), tuning("glyph-digits", "a", 3e-3, 0.6),
                seed("fashion-mnist", "b", 0, 0.9, 10), seed("glyph-digits", "b", 0, 0.1, 20),
                seed("count", "b", 0, 0.5, 30),
                seed("count", "other-method", 0, 0.99, 1), seed("textures", "a", 0, 0.99, 1)));
        return SuiteResults.aggregate(Map.of("protocol", new SuiteProtocol("t", new org.peft4j.data.suite.SuiteSizes(
                        10, 10, 10), 1, 4, 0, 0, 3, true).toJson()),
                Map.of("name", "m", "path", "/m", "linear_probe", "n/a (custom model)"), TASKS, List.of("a", "b"), runs);
    }

    @Test
    void meanAndSampleStdOverSeedsPerTask() {
        SuiteResults r = handMade();
        SuiteResults.MethodResult a = r.methods().get(0);
        assertEquals("a", a.label());
        assertEquals(List.of(0.2, 0.3, 0.4), a.tasks().get(2).accuracies(), "seeds in seed order");
        assertEquals(0.6, a.tasks().get(0).mean(), EPS);
        assertEquals(0.1, a.tasks().get(0).std(), EPS);
        assertEquals(0.8, a.tasks().get(1).mean(), EPS);
        assertEquals(0.0, a.tasks().get(1).std(), EPS);
        assertEquals(0.3, a.tasks().get(2).mean(), EPS);
        assertEquals(0.1, a.tasks().get(2).std(), EPS);
        assertEquals(0.0, r.methods().get(1).tasks().get(0).std(), "one seed: no spread");
    }

    @Test
    void theSummaryIsTheMeanOfTheGroupMeansNotOfTheTasks() {
        SuiteResults.MethodResult a = handMade().methods().get(0);
        assertEquals(Map.of(TaskGroup.NATURAL, 0.7, TaskGroup.STRUCTURED, 0.3).keySet(), a.groupMeans().keySet());
        assertEquals(0.7, a.groupMeans().get(TaskGroup.NATURAL), EPS);
        assertEquals(0.3, a.groupMeans().get(TaskGroup.STRUCTURED), EPS);
        assertEquals(0.5, a.overall(), EPS); // the plain task mean would be 0.5667
        assertEquals(105, a.meanTrainableParams(), EPS);
        assertEquals(3.0, a.secondsPerRun(), EPS);
        assertEquals(9 * 3.0 + 4 * 1.0, a.totalSeconds(), EPS);
    }

    @Test
    void theBestValAccuracyChoosesTheRateAndATieTheSmallerOne() {
        SuiteResults.MethodResult a = handMade().methods().get(0);
        assertEquals(1e-3, a.tasks().get(0).learningRate(), "tie at 0.7");
        assertEquals(3e-3, a.tasks().get(1).learningRate());
        assertEquals(3e-3, a.tasks().get(2).learningRate(), "no tuning: the seed runs' rate");
        assertEquals(List.of(1e-3, 3e-3), a.tasks().get(0).tuning().stream().map(RunRecord::learningRate).toList());
        assertThrows(IllegalArgumentException.class, () -> SuiteResults.chooseLearningRate(List.of()));
    }

    @Test
    void aMissingSeedRunIsAnError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SuiteResults.aggregate(
                Map.of(), Map.of(), TASKS, List.of("a"), List.of(seed("count", "a", 0, 0.5, 1))));
        assertEquals("no test run of a on fashion-mnist", e.getMessage());
    }

    @Test
    void theTableHasOneRowPerMethodAndTaskGroupAndSummaryColumns() {
        SuiteResults r = handMade();
        assertEquals(List.of("method", "params", "% of model", "fashion-mnist", "glyph-digits", "count", "natural",
                "structured", "mean", "s/run"), SuiteReport.columns(r));
        assertEquals(List.of(
                List.of("a", "105", "10.50", "60.0 ± 10.0", "80.0 ± 0.0", "30.0 ± 10.0", "70.0", "30.0", "50.0", "3.0"),
                List.of("b", "20", "2.00", "90.0", "10.0", "50.0", "50.0", "50.0", "50.0", "2.0")), SuiteReport.rows(r));
        List<String> md = SuiteReport.markdownTable(r).lines().toList();
        assertEquals(4, md.size());
        assertEquals("| method | params | % of model | fashion-mnist | glyph-digits | count | natural | structured | mean "
                + "| s/run |", md.get(0));
        assertEquals("| a | 105 | 10.50 | 60.0 ± 10.0 | 80.0 ± 0.0 | 30.0 ± 10.0 | 70.0 | 30.0 | 50.0 | 3.0 |", md.get(2));
    }

    @Test
    void theCsvHasOneRowPerMethodAndTaskWithEachSeed() {
        List<String> csv = SuiteReport.csv(handMade()).lines().toList();
        assertEquals("method,task,group,learning_rate,mean,std,seed_0,seed_1,seed_2,trainable_params,"
                + "trainable_percent,seconds_per_run,images_per_s", csv.get(0));
        assertEquals(1 + 2 * 3, csv.size());
        assertEquals("a,fashion-mnist,natural,0.001,0.600000,0.100000,0.500000,0.600000,0.700000,100,10.0000,3.00,500.0",
                csv.get(1));
        assertEquals("b,count,structured,0.003,0.500000,0.000000,0.500000,,,30,3.0000,2.00,500.0", csv.get(6));
    }

    @Test
    void theJsonHoldsTheChosenRatesAndEveryRun() throws Exception {
        var json = Json.MAPPER.readTree(Json.toPythonStyle(SuiteReport.json(handMade())));
        var a = json.get("methods").get(0);
        assertEquals(0.5, a.get("mean").asDouble(), EPS);
        assertEquals(0.001, a.get("tasks").get("fashion-mnist").get("learning_rate").asDouble());
        assertEquals(2, a.get("tasks").get("fashion-mnist").get("tuning").size());
        assertEquals(3, a.get("tasks").get("count").get("seeds").size());
        assertEquals("structured", json.get("tasks").get(2).get("group").asText());
        assertEquals("n/a (custom model)", json.get("backbone").get("linear_probe").asText());
        assertEquals(1, json.get("settings").get("protocol").get("epochs").asInt());
    }
}
