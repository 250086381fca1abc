package org.peft4j.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.suite.SuiteProtocol;
import org.peft4j.suite.SuiteReport;
import org.peft4j.suite.TinyVit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.peft4j.cli.CliTest.cli;

/** peft4j suite on a tiny random ViT (--model), so no backbone is pretrained. */
class SuiteCommandTest {

    @TempDir
    static Path shared;
    static String model;

    @BeforeAll
    static void saveModel() throws IOException {
        model = TinyVit.save(shared.resolve("tiny-vit"), 5).toString();
    }

    @Test
    void badInputIsOneLineExitCodeTwoAndWritesNothing(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("out");
        List<List<String>> cases = List.of(
                List.of("--tasks", "count,nope", "nope"),
                List.of("--methods", "lora,nope", "unknown method 'nope'"),
                List.of("--methods", "lora:bottleneck=4", "lora takes no option 'bottleneck'"),
                List.of("--methods", "lora:rank=x", "bad value 'x' for rank"),
                List.of("--methods", "lora:init=sideways", "sideways"),
                List.of("--seeds", "0", "--seeds must be at least 1"),
                List.of("--epochs", "0", "--epochs must be at least 1"),
                List.of("--seeds", "many", "many"));
        for (List<String> c : cases) {
            CliTest.Run r = cli("suite", "--model", model, "--out", out.toString(), "--cache", tmp.resolve("cache").toString(),
                    "--no-progress", c.get(0), c.get(1));
            assertEquals(2, r.code(), c + ": " + r.err());
            List<String> lines = r.err().lines().filter(l -> l.startsWith("peft4j: error: ")).toList();
            assertEquals(1, lines.size(), r.err());
            assertTrue(lines.get(0).contains(c.get(2)), lines.get(0));
            assertFalse(Files.exists(out), c + " wrote " + out);
            assertFalse(Files.exists(tmp.resolve("cache")));
        }
        Path file = Files.writeString(tmp.resolve("results"), "mine");
        CliTest.Run r = cli("suite", "--model", model, "--out", file.toString(), "--no-progress");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("is a file"), r.err());
        assertEquals("mine", Files.readString(file));
    }

    @Test
    void quickRunPrintsTheTableResumesAndRefusesOtherSettings(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("suite");
        String[] args = {"suite", "--quick", "--model", model, "--tasks", "dsprites-location,count", "--methods",
            "head,lora:rank=2", "--out", out.toString(), "--no-progress"};
        CliTest.Run r = cli(args);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("| method | params | % of model | dsprites-location | count | structured | mean"),
                r.out());
        assertTrue(r.out().contains("\n| head | ") && r.out().contains("\n| lora:rank=2 | "), r.out());
        assertTrue(r.out().contains("4 runs trained now, 0 found done"), r.out());
        for (String f : SuiteReport.FILES) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        String md = Files.readString(out.resolve("results.md"));
        assertTrue(md.contains("linear-probe accuracy on its source task: n/a (custom model)"), md);
        assertTrue(md.contains("Profile quick"), md);

        CliTest.Run again = cli(args);
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("0 runs trained now, 4 found done"), again.out());

        CliTest.Run other = cli("suite", "--quick", "--epochs", "5", "--model", model, "--tasks", "count", "--methods",
                "head", "--out", out.toString(), "--no-progress");
        assertEquals(2, other.code(), other.err());
        assertTrue(other.err().contains("holds results made with other settings (protocol.epochs: 3 there, 5 now)"),
                other.err());
    }

    @Test
    void helpStatesBothProfiles() {
        CliTest.Run r = cli("suite", "--help");
        assertEquals(0, r.code(), r.err());
        String help = r.out().replaceAll("\\s+", ""); // picocli wraps lines
        SuiteProtocol q = SuiteProtocol.QUICK;
        SuiteProtocol f = SuiteProtocol.FULL;
        for (String expected : List.of(
                "--quick:" + q.sizes().train() + "train/" + q.sizes().val() + "val/" + q.sizes().test() + "testimages,"
                        + q.epochs() + "epochs,batch" + q.batchSize() + ",notuning",
                q.seeds() + "seed",
                "train(" + f.sizes().train() + "images)",
                "val(" + f.sizes().val() + ")",
                "test(" + f.sizes().test() + ")",
                "trains" + f.epochs() + "epochsatbatch" + f.batchSize(),
                f.seeds() + "seeds",
                SuiteCommand.DEFAULT_METHODS)) {
            assertTrue(help.contains(expected.replaceAll("\\s+", "")), expected + " in " + r.out());
        }
    }
}
