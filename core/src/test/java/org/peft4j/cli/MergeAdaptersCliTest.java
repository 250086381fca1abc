package org.peft4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.io.Json;
import org.peft4j.tuners.AdapterModel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.peft4j.cli.CliTest.cli;

/**
 * merge-adapters, eval --head and eval-multi on the seeded tiny preset: two LoRAs trained on tasks
 * with different classes merge into one folder with both heads; bad input exits 2 and writes nothing.
 */
class MergeAdaptersCliTest {

    private static final String MODEL = "vit-tiny-test";

    @TempDir
    static Path shared;
    static Path shapes;
    static Path twoShapes;
    static Path adapterA;
    static Path adapterB;

    @BeforeAll
    static void adapters() throws IOException {
        shapes = CliTest.shapesFolder(shared.resolve("shapes"), 6);
        twoShapes = shared.resolve("two");
        for (String c : List.of("bar", "disc")) { // a second task: other classes
            Files.createDirectories(twoShapes.resolve(c));
            try (var files = Files.list(shapes.resolve(c))) {
                for (Path f : files.toList()) {
                    Files.copy(f, twoShapes.resolve(c).resolve(f.getFileName()));
                }
            }
        }
        adapterA = train("a", shapes);
        adapterB = train("b", twoShapes);
    }

    private static Path train(String name, Path data, String... extra) {
        Path out = shared.resolve(name);
        List<String> args = new ArrayList<>(List.of("train", "--model", MODEL, "--data", "folder:" + data, "--epochs", "1",
                "--batch-size", "8", "--no-progress", "--val-fraction", "0.34", "--out", out.toString()));
        args.addAll(List.of(extra));
        CliTest.Run r = cli(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        return out;
    }

    private static JsonNode json(String line) throws IOException {
        return Json.MAPPER.readTree(line);
    }

    @Test
    void mergedFolderKeepsEveryHeadAndEvaluatesEveryTaskInOnePass(@TempDir Path tmp) throws IOException {
        Path merged = tmp.resolve("merged");
        CliTest.Run m = cli("merge-adapters", "--model", MODEL, "--adapters", "a=" + adapterA + ",b=" + adapterB,
                "--method", "ties", "--density", "0.5", "--weights", "1,0.5", "--out", merged.toString());
        assertEquals(0, m.code(), m.err());
        for (String f : List.of(AdapterModel.CONFIG_FILE, AdapterModel.WEIGHTS_FILE, "merge_info.json",
                "heads/a/head.safetensors", "heads/a/labels.json", "heads/b/head.safetensors")) {
            assertTrue(Files.isRegularFile(merged.resolve(f)), f);
        }
        JsonNode config = Json.MAPPER.readTree(merged.resolve(AdapterModel.CONFIG_FILE).toFile());
        assertEquals("LORA", config.get("peft_type").asText());
        assertEquals(config.get("r").asInt(), config.get("lora_alpha").asInt());
        assertTrue(config.get("modules_to_save").isNull(), "the heads live beside the adapter");
        JsonNode info = Json.MAPPER.readTree(merged.resolve("merge_info.json").toFile());
        assertEquals("ties", info.get("method").asText());
        assertEquals(0.5, info.get("tasks").get(1).get("weight").asDouble());

        CliTest.Run multi = cli("eval-multi", "--model", MODEL, "--adapter", merged.toString(), "--data",
                "a=folder:" + shapes + ",b=folder:" + twoShapes);
        assertEquals(0, multi.code(), multi.err());
        assertEquals(2, multi.lines().size(), multi.out());
        for (String line : multi.lines()) {
            JsonNode task = json(line);
            String name = task.get("task").asText();
            CliTest.Run one = cli("eval", "--model", MODEL, "--adapter", merged.toString(), "--head", name,
                    "--data", "folder:" + (name.equals("a") ? shapes : twoShapes));
            assertEquals(0, one.code(), one.err());
            JsonNode single = json(one.lines().get(0));
            assertEquals(task.get("accuracy").asDouble(), single.get("accuracy").asDouble(), 1e-12, name);
            assertEquals(task.get("loss").asDouble(), single.get("loss").asDouble(), 1e-4, name);
        }
        CliTest.Run noHead = cli("eval", "--model", MODEL, "--adapter", merged.toString(), "--data", "folder:" + shapes);
        assertEquals(2, noHead.code(), "two tasks: --head is needed");
    }

    @Test
    void aMergeOfOneAdapterEvaluatesAsThatAdapter(@TempDir Path tmp) throws IOException {
        Path merged = tmp.resolve("one");
        assertEquals(0, cli("merge-adapters", "--model", MODEL, "--adapters", adapterB.toString(), "--method", "cat",
                "--out", merged.toString()).code());
        CliTest.Run viaMerge = cli("eval", "--model", MODEL, "--adapter", merged.toString(), "--data", "folder:" + twoShapes);
        CliTest.Run plain = cli("eval", "--model", MODEL, "--adapter", adapterB.toString(), "--data", "folder:" + twoShapes);
        assertEquals(0, viaMerge.code(), viaMerge.err());
        JsonNode a = json(viaMerge.lines().get(0));
        JsonNode b = json(plain.lines().get(0));
        assertEquals(b.get("accuracy").asDouble(), a.get("accuracy").asDouble(), 1e-12);
        assertEquals(b.get("loss").asDouble(), a.get("loss").asDouble(), 1e-4);
    }

    @Test
    void adaMergingLearnsItsCoefficientsFromUnlabeledImagesAndEmrEvaluatesTaskByTask(@TempDir Path tmp)
            throws IOException {
        Path ada = tmp.resolve("ada");
        CliTest.Run m = cli("merge-adapters", "--model", MODEL, "--adapters", "a=" + adapterA + ",b=" + adapterB,
                "--method", "adamerging_layerwise", "--data", "a=folder:" + shapes + ",b=folder:" + twoShapes,
                "--ada-steps", "3", "--no-progress", "--out", ada.toString());
        assertEquals(0, m.code(), m.err());
        JsonNode info = Json.MAPPER.readTree(ada.resolve("merge_info.json").toFile());
        JsonNode coefficients = info.get("adamerging").get("coefficients");
        assertEquals(2, coefficients.size(), "one group per block of the tiny preset: " + coefficients);
        assertEquals(2, coefficients.get("block 0").size());
        assertEquals(2, cli("merge-adapters", "--model", MODEL, "--adapters", "a=" + adapterA + ",b=" + adapterB,
                "--method", "adamerging", "--out", tmp.resolve("no-data").toString()).code(), "needs --data");
        // an option the method does not use is ignored, as PEFT ignores it, and not recorded
        Path cat = tmp.resolve("cat");
        CliTest.Run withDensity = cli("merge-adapters", "--model", MODEL, "--adapters", adapterA + "," + adapterB,
                "--method", "cat", "--density", "0.3", "--majority-sign", "frequency", "--out", cat.toString());
        assertEquals(0, withDensity.code(), withDensity.err());
        assertTrue(withDensity.err().contains("--density does not apply to cat"), withDensity.err());
        assertTrue(Json.MAPPER.readTree(cat.resolve("merge_info.json").toFile()).get("density").isNull());

        Path emr = tmp.resolve("emr");
        assertEquals(0, cli("merge-adapters", "--model", MODEL, "--adapters", "a=" + adapterA + ",b=" + adapterB,
                "--method", "emr_merging", "--out", emr.toString()).code());
        assertTrue(Files.isRegularFile(emr.resolve("emr_modulators.safetensors")));
        CliTest.Run multi = cli("eval-multi", "--model", MODEL, "--adapter", emr.toString(), "--data",
                "a=folder:" + shapes + ",b=folder:" + twoShapes);
        assertEquals(0, multi.code(), multi.err());
        assertEquals(2, multi.lines().size());
    }

    @Test
    void adaptersRecordTheirBaseModelAndAdaptersOfAnotherOneAreRefused(@TempDir Path tmp) throws IOException {
        Path original = org.peft4j.Fixtures.vitTiny("hf");
        Path copy = tmp.resolve("copy");
        Path altered = tmp.resolve("altered");
        for (Path dir : List.of(copy, altered)) {
            Files.createDirectories(dir);
            for (String f : List.of("config.json", "model.safetensors")) {
                Files.copy(original.resolve(f), dir.resolve(f));
            }
        }
        Files.writeString(altered.resolve("config.json"), Files.readString(altered.resolve("config.json")) + "\n");
        Path x = trainOn(original, tmp.resolve("x"));
        Path y = trainOn(copy, tmp.resolve("y"));
        Path z = trainOn(altered, tmp.resolve("z"));
        assertEquals(original.toAbsolutePath().normalize().toString(), Json.MAPPER.readTree(
                x.resolve(AdapterModel.CONFIG_FILE).toFile()).get("base_model_name_or_path").asText());
        assertEquals(0, cli("merge-adapters", "--model", original.toString(), "--adapters", x + "," + y, "--method", "cat",
                "--out", tmp.resolve("same").toString()).code(), "a copied model is the same model");
        CliTest.Run other = cli("merge-adapters", "--model", original.toString(), "--adapters", x + "," + z, "--method",
                "cat", "--out", tmp.resolve("other").toString());
        assertEquals(2, other.code(), other.err());
        assertTrue(other.err().contains("different base models"), other.err());
        CliTest.Run notThis = cli("merge-adapters", "--model", altered.toString(), "--adapters", x.toString(), "--method",
                "cat", "--out", tmp.resolve("not-this").toString());
        assertEquals(2, notThis.code(), notThis.err());
        assertTrue(notThis.err().contains("not on --model"), notThis.err());
    }

    private static Path trainOn(Path model, Path out) {
        CliTest.Run r = cli("train", "--model", model.toString(), "--data", "folder:" + shapes, "--epochs", "1",
                "--batch-size", "8", "--no-progress", "--val-fraction", "0.34", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        return out;
    }

    @Test
    void badInputExitsTwoNamingTheProblemAndWritesNothing(@TempDir Path tmp) {
        Path out = tmp.resolve("never");
        String both = adapterA + "," + adapterB;
        Path rank4 = train("rank4", shapes, "--rank", "4");
        Path queryOnly = train("query-only", shapes, "--target", "query");
        String[][] cases = {
            {"--adapters", both, "--method", "linear", "--weights", "1,2,3"},
            {"--adapters", both, "--method", "ties", "--density", "0"},
            {"--adapters", both, "--method", "ties", "--density", "1.5"},
            {"--adapters", both, "--method", "frobnicate"},
            {"--adapters", adapterA + "," + rank4, "--method", "linear"},
            {"--adapters", adapterA + "," + queryOnly, "--method", "linear"},
            {"--adapters", adapterA + "," + tmp.resolve("missing"), "--method", "cat"},
            {"--adapters", adapterA + "," + adapterA, "--method", "cat"},
        };
        String[] mentions = {"weights", "density", "density", "frobnicate", "rank", "layers", "missing",
            "twice"};
        for (int i = 0; i < cases.length; i++) {
            List<String> args = new ArrayList<>(List.of("merge-adapters", "--model", MODEL, "--out", out.toString()));
            args.addAll(List.of(cases[i]));
            CliTest.Run r = cli(args.toArray(String[]::new));
            assertEquals(2, r.code(), String.join(" ", cases[i]) + ": " + r.err());
            assertTrue(r.err().contains(mentions[i]), r.err());
            assertEquals(1, r.err().lines().filter(l -> l.startsWith("peft4j: error")).count(), r.err());
            assertFalse(Files.exists(out), String.join(" ", cases[i]));
        }
        // other base model: a preset of another width
        CliTest.Run other = cli("merge-adapters", "--model", "vit-fmnist-demo", "--adapters", both, "--method", "cat",
                "--out", out.toString());
        assertTrue(other.code() == 2, other.err());
        assertFalse(Files.exists(out));
        // an output over an input, or over an existing folder without --overwrite
        assertEquals(2, cli("merge-adapters", "--model", MODEL, "--adapters", both, "--method", "cat", "--out",
                adapterA.toString()).code());
        assertTrue(Files.isRegularFile(adapterA.resolve(AdapterModel.WEIGHTS_FILE)));
    }
}
