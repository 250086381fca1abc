package org.peft4j.spark;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.cli.Main;
import org.peft4j.io.Json;
import org.peft4j.spark.cli.SparkMain;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The suite on local[2]: the same report and scores as peft4j suite, and a rerun trains nothing. */
class SparkSuiteTest {

    @TempDir
    Path tmp;

    private static String captured(java.util.concurrent.Callable<Integer> run, int expectedCode) throws Exception {
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true));
        try {
            assertEquals(expectedCode, run.call());
        } finally {
            System.setOut(old);
        }
        return out.toString();
    }

    private static List<String> args(Path out) {
        return new ArrayList<>(List.of("--quick", "--epochs", "1", "--model", SparkPredictTest.MODEL.toString(), "--tasks",
                "dsprites-location,count", "--methods", "head,lora:rank=2", "--out", out.toString(), "--no-progress"));
    }

    @Test
    void runsEachRunAsATaskWithTheLocalReport() throws Exception {
        List<String> local = new ArrayList<>(List.of("suite"));
        local.addAll(args(tmp.resolve("local")));
        captured(() -> Main.run(local.toArray(String[]::new)), 0);
        List<String> spark = new ArrayList<>(List.of("suite", "--master", "local[2]"));
        spark.addAll(args(tmp.resolve("spark")));
        String first = captured(() -> SparkMain.run(spark.toArray(String[]::new)), 0);
        assertTrue(first.contains("4 runs trained now, 0 found done"), first);
        var a = Json.MAPPER.readTree(tmp.resolve("local/results.json").toFile());
        var b = Json.MAPPER.readTree(tmp.resolve("spark/results.json").toFile());
        String timings = "\"[a-z_]*(seconds|per_s)[a-z_]*\":[0-9.E-]+"; // wall-clock fields differ run to run
        assertEquals(a.path("methods").toString().replaceAll(timings, ""), b.path("methods").toString().replaceAll(timings, ""),
                "the same scores as the local suite");
        for (String f : List.of("results.md", "results.csv", "results.json", "report.html")) {
            assertTrue(Files.isRegularFile(tmp.resolve("spark").resolve(f)), f);
        }
        String again = captured(() -> SparkMain.run(spark.toArray(String[]::new)), 0);
        assertTrue(again.contains("0 runs trained now, 4 found done"), again);
        assertEquals(2, SparkMain.run("suite", "--master", "local[2]", "--task", "segmentation", "--out", tmp.resolve("x").toString()));
    }
}
