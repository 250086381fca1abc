package org.peft4j.spark;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import com.fasterxml.jackson.databind.JsonNode;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.cli.Main;
import org.peft4j.io.Json;
import org.peft4j.io.SafetensorsReader;
import org.peft4j.models.vit.VitCheckpoint;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.peft.AdapterLabels;
import org.peft4j.peft.PeftModel;
import org.peft4j.spark.cli.SparkMain;
import org.peft4j.tuners.TargetModules;
import org.peft4j.tuners.lora.LoraConfig;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code PeftImageClassifier} and {@code peft4j spark predict} on local[2]: the same labels and logits
 * as local {@code peft4j predict} for every (image, adapter), errors as rows, and checks before any task.
 */
class SparkPredictTest {

    static final Path MODEL = Path.of("../core/src/test/resources/fixtures/vit-tiny/hf").toAbsolutePath().normalize();

    @TempDir
    static Path tmp;
    static SparkSession spark;
    static Path images;
    static Map<String, String> adapters = new LinkedHashMap<>();

    @BeforeAll
    static void setUp() throws Exception {
        spark = Sessions.start("local[2]", "peft4j-test");
        images = Files.createDirectories(tmp.resolve("images"));
        Random r = new Random(1);
        for (int i = 0; i < 5; i++) {
            BufferedImage img = new BufferedImage(12 + i, 16, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < img.getHeight(); y++) {
                for (int x = 0; x < img.getWidth(); x++) {
                    img.setRGB(x, y, r.nextInt(1 << 24));
                }
            }
            ImageIO.write(img, "png", images.resolve("img" + i + ".png").toFile());
        }
        try (NDManager manager = NDManager.newBaseManager()) {
            VitForImageClassification vit = VitCheckpoint.load(MODEL, manager);
            PeftModel peft = new PeftModel(vit, vit.headPath(), manager);
            Engine.getInstance().setRandomSeed(3);
            for (String name : List.of("a", "b")) {
                peft.addAdapter(name, LoraConfig.of(name.equals("a") ? 4 : 2, 8, TargetModules.of("query", "value"))
                        .withModulesToSave(List.of("classifier")));
                for (Parameter p : peft.trainableParameters().values()) {
                    p.getArray().set(manager.randomNormal(p.getArray().getShape()).mul(0.3f).toFloatArray());
                }
                Path dir = tmp.resolve("adapter-" + name);
                peft.save(dir, name);
                AdapterLabels.write(dir, vit.config().labels());
                adapters.put(name, dir.toString());
            }
        }
    }

    @AfterAll
    static void tearDown() {
        spark.stop();
    }

    /** Local {@code peft4j predict} on the image folder with one adapter: logits [N, L] and labels by file name. */
    private static Map<String, Object[]> local(String adapter) throws Exception {
        Path out = tmp.resolve("local-" + adapter + ".safetensors");
        Files.deleteIfExists(out);
        PrintStream old = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true));
        int code;
        try {
            code = Main.run("predict", "--model", MODEL.toString(), "--adapter", adapters.get(adapter), "--input", images.toString(),
                    "--output", out.toString());
        } finally {
            System.setOut(old);
        }
        assertEquals(0, code);
        List<JsonNode> lines = new ArrayList<>();
        for (String l : captured.toString().lines().filter(l -> l.startsWith("{")).toList()) {
            lines.add(Json.MAPPER.readTree(l));
        }
        float[] logits;
        long labels;
        try (SafetensorsReader reader = SafetensorsReader.open(out)) {
            logits = reader.readFloats("logits");
            labels = reader.info("logits").shape()[1];
        }
        Map<String, Object[]> byName = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            float[] row = java.util.Arrays.copyOfRange(logits, (int) (i * labels), (int) ((i + 1) * labels));
            byName.put(Path.of(lines.get(i).get("input").asText()).getFileName().toString(),
                    new Object[] {lines.get(i).get("label").asText(), row});
        }
        return byName;
    }

    @Test
    void sameLabelsAndLogitsAsLocalPredictForEveryImageAndAdapter() throws Exception {
        Files.write(tmp.resolve("images-with-bad").resolve("x").getParent().toFile().mkdirs() ? tmp.resolve("images-with-bad/broken.png")
                : tmp.resolve("images-with-bad/broken.png"), new byte[] {1, 2, 3, 4});
        for (Path p : Files.list(images).toList()) {
            Files.copy(p, tmp.resolve("images-with-bad").resolve(p.getFileName()));
        }
        Dataset<Row> files = spark.read().format("binaryFile").load(tmp.resolve("images-with-bad").toString());
        PeftImageClassifier classifier = new PeftImageClassifier().setModel(MODEL.toString()).setAdapters(adapters).setBatchSize(4);
        List<Row> rows = classifier.transform(files.repartition(2)).select("path", "adapter", "label", "score", "logits", "error")
                .collectAsList();
        assertEquals(6 * 2, rows.size(), "one row per (image, adapter)");
        Map<String, Map<String, Object[]>> expected = Map.of("a", local("a"), "b", local("b"));
        int checked = 0;
        for (Row row : rows) {
            String file = Path.of(java.net.URI.create(row.getString(0))).getFileName().toString();
            if (file.equals("broken.png")) {
                assertNotNull(row.getString(5), "an unreadable image is a row with error set");
                assertNull(row.get(2));
                continue;
            }
            assertNull(row.get(5), row.toString());
            Object[] want = expected.get(row.getString(1)).get(file);
            assertEquals(want[0], row.getString(2), file + " " + row.getString(1));
            List<Object> got = row.getList(4);
            float[] logits = (float[]) want[1];
            assertEquals(logits.length, got.size());
            for (int k = 0; k < logits.length; k++) {
                assertEquals(logits[k], (Float) got.get(k), 1e-4f, file + " logit " + k);
            }
            checked++;
        }
        assertEquals(10, checked);
    }

    @Test
    void readsSparksImageSourceAndSavesInAPipeline() throws Exception {
        Dataset<Row> imgs = spark.read().format("image").load(images.toString());
        PeftImageClassifier classifier = new PeftImageClassifier().setModel(MODEL.toString()).setAdapters(Map.of("a", adapters.get("a")))
                .setInputCol("image").setOutputCol("predicted");
        Pipeline pipeline = new Pipeline().setStages(new PipelineStage[] {classifier});
        PipelineModel fitted = pipeline.fit(imgs);
        Path saved = tmp.resolve("pipeline");
        fitted.write().overwrite().save(saved.toString());
        PipelineModel back = PipelineModel.load(saved.toString());
        List<Row> rows = back.transform(imgs).select("predicted", "logits", "error").collectAsList();
        assertEquals(5, rows.size());
        Map<String, Object[]> local = local("a");
        List<String> labels = new ArrayList<>();
        rows.forEach(r -> labels.add(r.getString(0)));
        List<String> want = new ArrayList<>();
        local.values().forEach(v -> want.add((String) v[0]));
        labels.sort(null);
        want.sort(null);
        assertEquals(want, labels, "BGR bytes from the image source decode to the same predictions");
        assertEquals(MODEL.toString(), ((PeftImageClassifier) back.stages()[0]).getOrDefault(classifier.model()));
    }

    @Test
    void aMissingModelOrAdapterFailsBeforeAnyTask() {
        Dataset<Row> files = spark.read().format("binaryFile").load(images.toString());
        IllegalArgumentException model = assertThrows(IllegalArgumentException.class,
                () -> new PeftImageClassifier().setModel("/no/model").transform(files));
        assertTrue(model.getMessage().contains("/no/model"), model.getMessage());
        IllegalArgumentException adapter = assertThrows(IllegalArgumentException.class,
                () -> new PeftImageClassifier().setModel(MODEL.toString()).setAdapters(Map.of("z", "/no/adapter")).transform(files));
        assertTrue(adapter.getMessage().contains("/no/adapter"), adapter.getMessage());
    }

    @Test
    void theCliWritesParquetOrJsonLinesAndRefusesBadInput() throws Exception {
        Path out = tmp.resolve("cli-out");
        int code = SparkMain.run("predict", "--master", "local[2]", "--model", MODEL.toString(), "--adapter", "a=" + adapters.get("a"),
                "--adapter", "b=" + adapters.get("b"), "--input", images.toString(), "--output", out.toString(), "--format", "jsonl");
        assertEquals(0, code);
        List<Row> rows = spark.read().json(out.toString()).collectAsList();
        assertEquals(10, rows.size());
        assertEquals(2, SparkMain.run("predict", "--master", "local[2]", "--model", MODEL.toString(), "--input", images.toString(),
                "--output", out.toString()), "an existing output is kept without --overwrite");
        // a Parquet table of path + image bytes (written by Spark: a folder named *.parquet) gives the same rows
        Path table = tmp.resolve("images.parquet");
        spark.read().format("binaryFile").load(images.toString()).selectExpr("path", "content AS image").write().parquet(table.toString());
        Path fromTable = tmp.resolve("from-table");
        assertEquals(0, SparkMain.run("predict", "--master", "local[2]", "--model", MODEL.toString(), "--adapter",
                "a=" + adapters.get("a"), "--input", table.toString(), "--output", fromTable.toString()));
        List<Row> tableRows = spark.read().parquet(fromTable.toString()).orderBy("path").collectAsList();
        assertEquals(5, tableRows.size());
        Map<String, Object[]> local = local("a");
        for (Row r : tableRows) {
            String file = Path.of(java.net.URI.create(r.getString(r.fieldIndex("path")))).getFileName().toString();
            assertEquals(local.get(file)[0], r.getString(r.fieldIndex("label")), file);
        }
        assertEquals(2, SparkMain.run("predict", "--master", "local[2]", "--model", "/no/model", "--input", images.toString(),
                "--output", tmp.resolve("never").toString()));
        assertTrue(!Files.exists(tmp.resolve("never")));
    }
}
