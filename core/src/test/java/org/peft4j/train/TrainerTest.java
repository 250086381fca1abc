package org.peft4j.train;

import org.peft4j.ManagedTest;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.data.Batch;
import org.peft4j.data.BatchLoader;
import org.peft4j.data.DataException;
import org.peft4j.data.ImageDataset;
import org.peft4j.data.ImageTransform;
import org.peft4j.data.RawImage;
import org.peft4j.io.Json;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.models.vit.VitPresets;
import org.peft4j.peft.PeftModel;
import org.peft4j.tuners.TargetModules;
import org.peft4j.tuners.lora.LoraConfig;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The training loop on a tiny ViT with LoRA on query/value and a trainable classifier copy. */
class TrainerTest extends ManagedTest {

    private static final LoraConfig LORA = LoraConfig.of(4, 8, TargetModules.of("query", "value"))
            .withModulesToSave(List.of("classifier"));

    private static int threadsBefore;

    /**
     * Tensors this small gain nothing from intra-op threads, and on a busy 2-core machine
     * libtorch's spinning thread pool made each step ~50× slower here (a forward pass 450 ms instead of 8 ms).
     */
    @BeforeAll
    static void oneIntraOpThread() {
        Engine.getInstance();
        threadsBefore = JniUtils.getNumThreads();
        JniUtils.setNumThreads(1);
    }

    @AfterAll
    static void restoreThreads() {
        JniUtils.setNumThreads(threadsBefore);
    }


    /** A randomly initialised vit-tiny-test with a fresh LoRA adapter; same seed, same weights. */
    private record Setup(VitForImageClassification vit, LinkedHashMap<String, Parameter> trainable,
                         ImageTransform transform) {

        Trainer trainer(TrainConfig config, NDManager manager) {
            return new Trainer(config, vit, trainable, manager).showProgress(false);
        }
    }

    private Setup lora(long seed, LoraConfig config) {
        Engine.getInstance().setRandomSeed((int) seed);
        VitForImageClassification vit = new VitForImageClassification(
                VitPresets.get("vit-tiny-test").withLabels(ShapesDataset.CLASSES));
        vit.initialize(manager);
        PeftModel peft = new PeftModel(vit, vit.headPath(), manager);
        peft.addAdapter(PeftModel.DEFAULT_ADAPTER, config);
        return new Setup(vit, peft.trainableParameters(), FineTuning.transformFor(vit));
    }

    private static TrainConfig config(int epochs, int batchSize, double lr, int accumulation) {
        return new TrainConfig(epochs, batchSize, lr, 0.01, 0.1, accumulation, 1.0, 7, 1, false);
    }

    private static ShapesDataset shapes(String name, int size, long seed) {
        return new ShapesDataset(name, size, seed);
    }

    private static Map<String, float[]> values(Map<String, Parameter> params) {
        Map<String, float[]> out = new LinkedHashMap<>();
        params.forEach((k, p) -> out.put(k, p.getArray().toFloatArray()));
        return out;
    }

    private static void assertSameValues(Map<String, float[]> expected, Map<String, float[]> actual, double tol) {
        assertEquals(expected.keySet(), actual.keySet());
        expected.forEach((k, e) -> {
            float[] a = actual.get(k);
            for (int i = 0; i < e.length; i++) {
                if (!(Math.abs(e[i] - a[i]) <= tol)) { // NaN fails too
                    fail(k + "[" + i + "]: expected " + e[i] + ", got " + a[i] + " (tolerance " + tol + ")");
                }
            }
        });
    }

    @Test
    void lossFallsAndAccuracyBeatsChance() throws IOException {
        Setup s = lora(1, LORA);
        ImageDataset val = shapes("val", 30, 2);
        double before = Trainer.evaluate(s.vit, val, s.transform, 16, manager).accuracy();
        Trainer.Result r = s.trainer(config(8, 8, 1e-2, 1), manager).fit(shapes("train", 48, 1), val, s.transform);

        assertEquals(8, r.epochs().size());
        assertEquals(8 * 6, r.optimizerSteps());
        double first = r.epochs().get(0).trainLoss();
        double last = r.epochs().get(7).trainLoss();
        assertTrue(last < 0.7 * first, "train loss " + first + " -> " + last);
        double accuracy = r.epochs().get(7).valAccuracy();
        assertTrue(accuracy >= 0.7, "val accuracy " + accuracy + " (chance 1/3, before training " + before + ")");
        assertEquals(accuracy, Trainer.evaluate(s.vit, val, s.transform, 16, manager).accuracy(), 1e-12,
                "without keepBest the model ends with the last epoch's weights");
    }

    @Test
    void sameSeedGivesTheSameWeights() throws IOException {
        Map<String, float[]> first = trainTwoEpochs();
        Map<String, float[]> second = trainTwoEpochs();
        assertSameValues(first, second, 1e-7);
    }

    private Map<String, float[]> trainTwoEpochs() throws IOException {
        Setup s = lora(3, LORA);
        s.trainer(config(2, 4, 1e-2, 1), manager).fit(shapes("train", 12, 4), shapes("val", 6, 5), s.transform);
        return values(s.trainable);
    }

    @Test
    void onlyAdapterWeightsChange() throws IOException {
        Setup s = lora(4, LORA);
        Map<String, float[]> base = values(s.vit.namedParameters());
        Map<String, float[]> adapter = values(s.trainable);
        assertTrue(adapter.containsKey("classifier.weight"), "classifier copy trains: " + adapter.keySet());
        s.trainer(config(2, 4, 1e-2, 1), manager).fit(shapes("train", 12, 6), shapes("val", 6, 7), s.transform);

        assertSameValues(base, values(s.vit.namedParameters()), 0);
        Map<String, float[]> trained = values(s.trainable);
        int loraB = 0;
        for (Map.Entry<String, float[]> e : adapter.entrySet()) {
            float[] after = trained.get(e.getKey());
            if (e.getKey().endsWith("lora_B.weight")) {
                loraB++;
                assertTrue(allZero(e.getValue()), "lora_B starts at zero: " + e.getKey());
                assertFalse(allZero(after), "lora_B trained: " + e.getKey());
            }
            assertFalse(java.util.Arrays.equals(e.getValue(), after), "unchanged: " + e.getKey());
        }
        assertEquals(4, loraB, "query and value of two layers");
    }

    private static boolean allZero(float[] values) {
        for (float v : values) {
            if (v != 0) {
                return false;
            }
        }
        return true;
    }

    @Test
    void arraysAliveStayFlatFromFiveToFiftySteps(@TempDir Path tmp) throws IOException {
        Setup s = lora(5, LORA);
        ImageDataset train = shapes("train", 10, 8); // batch 2: 5 steps per epoch
        ImageDataset val = shapes("val", 4, 9);
        int before = manager.getManagedArrays().size();
        for (int epochs : new int[] {1, 10}) {
            try (NDManager run = manager.newSubManager()) {
                Trainer.Result r = s.trainer(config(epochs, 2, 1e-3, 1), run)
                        .metricsTo(tmp.resolve(epochs + "/metrics.jsonl"))
                        .checkpointTo(tmp.resolve(epochs + "/checkpoint"), false)
                        .fit(train, val, s.transform);
                assertEquals(5L * epochs, r.optimizerSteps());
                // fit() frees its AdamW moments too, so nothing is left beside the model.
                assertEquals(before, manager.getManagedArrays().size(),
                        "arrays alive after " + r.optimizerSteps() + " steps");
            }
            assertEquals(before, manager.getManagedArrays().size(), "after closing the run's manager");
        }
    }

    @Test
    void resumedRunEndsLikeTheUninterruptedOne(@TempDir Path tmp) throws IOException {
        TrainConfig config = config(3, 4, 1e-2, 1);
        ImageDataset train = shapes("train", 12, 10);
        ImageDataset val = shapes("val", 6, 11);

        Setup whole = lora(6, LORA);
        Trainer.Result uninterrupted = whole.trainer(config, manager).fit(train, val, whole.transform);
        Map<String, float[]> expected = values(whole.trainable);

        // The first run dies when epoch 3 starts loading images: its checkpoint holds epoch 2.
        Path dir = tmp.resolve("checkpoint");
        Setup crashed = lora(6, LORA);
        ImageDataset failing = new FailingAfter(train, 2 * train.size());
        assertThrows(DataException.class,
                () -> crashed.trainer(config, manager).checkpointTo(dir, false).fit(failing, val, crashed.transform));
        JsonNode state = Json.MAPPER.readTree(dir.resolve("trainer_state.json").toFile());
        assertEquals(2, state.path("epochs_done").asInt());
        assertEquals(6, state.path("optimizer_step").asLong());

        Setup resumed = lora(6, LORA);
        Trainer.Result rest = resumed.trainer(config, manager).checkpointTo(dir, true).fit(train, val, resumed.transform);
        assertEquals(1, rest.epochs().size(), "only epoch 3 runs");
        assertEquals(3, rest.epochs().get(0).epoch());
        assertEquals(uninterrupted.optimizerSteps(), rest.optimizerSteps());
        assertEquals(uninterrupted.epochs().get(2).valAccuracy(), rest.epochs().get(0).valAccuracy());
        assertSameValues(expected, values(resumed.trainable), 1e-7);
        assertEquals(3, Json.MAPPER.readTree(dir.resolve("trainer_state.json").toFile()).path("epochs_done").asInt());
    }

    @Test
    void resumingFromACheckpointOfOtherParametersNamesTheFile(@TempDir Path tmp) throws IOException {
        Path dir = tmp.resolve("checkpoint");
        Setup queryOnly = lora(7, LoraConfig.of(4, 8, TargetModules.of("query")));
        queryOnly.trainer(config(1, 4, 1e-2, 1), manager).checkpointTo(dir, false)
                .fit(shapes("train", 4, 12), shapes("val", 3, 13), queryOnly.transform);

        Setup s = lora(7, LORA);
        IOException e = assertThrows(IOException.class, () -> s.trainer(config(2, 4, 1e-2, 1), manager)
                .checkpointTo(dir, true).fit(shapes("train", 4, 12), shapes("val", 3, 13), s.transform));
        assertTrue(e.getMessage().contains("state.safetensors") && e.getMessage().contains("value"), e.getMessage());
    }

    @Test
    void metricsLinesAreJsonWithLossLearningRateAndValidationAccuracy(@TempDir Path tmp) throws IOException {
        Setup s = lora(8, LORA);
        Path file = tmp.resolve("run/metrics.jsonl");
        Trainer.Result r = s.trainer(config(2, 4, 1e-2, 1), manager).metricsTo(file)
                .fit(shapes("train", 12, 14), shapes("val", 6, 15), s.transform);

        List<String> lines = Files.readAllLines(file);
        assertEquals(2 * 3 + 2, lines.size(), "one line per optimizer step (logEvery 1) and per epoch");
        int train = 0;
        int eval = 0;
        for (String line : lines) {
            JsonNode o = Json.MAPPER.readTree(line);
            assertTrue(o.isObject(), line);
            switch (o.path("type").asText()) {
                case "train" -> {
                    train++;
                    assertEquals(train, o.path("step").asInt(), line);
                    assertTrue(o.path("loss").isNumber() && o.path("loss").asDouble() > 0, line);
                    assertTrue(o.path("lr").isNumber() && o.path("lr").asDouble() > 0, line);
                    assertTrue(o.path("grad_norm").isNumber(), line);
                }
                case "eval" -> {
                    eval++;
                    assertEquals(eval, o.path("epoch").asInt(), line);
                    double acc = o.path("val_accuracy").asDouble(-1);
                    assertEquals(r.epochs().get(eval - 1).valAccuracy(), acc, 1e-12, line);
                    assertTrue(o.path("val_loss").isNumber() && o.path("train_loss").isNumber(), line);
                }
                default -> fail("unknown record type: " + line);
            }
        }
        assertEquals(6, train);
        assertEquals(2, eval);
    }

    @Test
    void accumulatingTwoBatchesOfFourEqualsOneBatchOfEight() throws IOException {
        ImageDataset train = shapes("train", 8, 16);
        ImageDataset val = shapes("val", 3, 17);
        Map<String, float[]> results = new LinkedHashMap<>();
        for (int batch : new int[] {4, 8}) {
            Setup s = lora(9, LORA);
            TrainConfig config = new TrainConfig(1, batch, 1e-2, 0.01, 0.0, 8 / batch, 1.0, 7, 1, false);
            Trainer.Result r = s.trainer(config, manager).fit(train, val, s.transform);
            assertEquals(1, r.optimizerSteps());
            Map<String, float[]> v = values(s.trainable);
            if (results.isEmpty()) {
                results.putAll(v);
            } else {
                assertSameValues(results, v, 1e-5);
            }
        }
    }

    /**
     * Regression for a use-after-free: DJL's {@code NDArray.mul(Number)} wraps the scalar in a tensor over
     * a Java direct buffer and closes it at once, while autograd keeps that tensor for the backward pass.
     * When a garbage collection frees the buffer in between, gradients read freed memory.
     */
    @Test
    void gradientsDoNotDependOnGarbageCollection() throws Exception {
        LoraConfig randomB = new LoraConfig(4, 8, 0.0, TargetModules.of("query", "value"), false, null, null,
                LoraConfig.Bias.NONE, List.of("classifier"), LoraConfig.Init.RANDOM, null, null);
        Setup s = lora(11, randomB); // B ≠ 0, so A has gradients from the first step
        Batch batch;
        try (BatchLoader loader = new BatchLoader(shapes("train", 8, 18), s.transform, 8, false, 0, 0, false)) {
            batch = loader.iterator().next();
        }
        NDArray x = manager.create(batch.pixels(), new Shape(batch.size(), batch.channels(), batch.height(), batch.width()));
        Map<String, float[]> expected = gradients(s, x, batch.labels());

        AtomicBoolean stop = new AtomicBoolean();
        Thread collector = new Thread(() -> {
            while (!stop.get()) {
                System.gc();
                for (int i = 0; i < 1_000; i++) { // reuse freed native memory, with non-zero bytes
                    ByteBuffer junk = ByteBuffer.allocateDirect(4 + i % 64);
                    while (junk.hasRemaining()) {
                        junk.put((byte) 0x7f);
                    }
                }
            }
        }, "gc-pressure");
        collector.setDaemon(true);
        collector.start();
        try {
            for (int round = 0; round < 10; round++) {
                assertSameValues(expected, gradients(s, x, batch.labels()), 0);
            }
        } finally {
            stop.set(true);
            collector.join();
        }
    }

    /** Gradients of half the loss (the accumulation path) for one batch, then zeroed. */
    private static Map<String, float[]> gradients(Setup s, NDArray x, int[] labels) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            Trainer.backward(s.vit, x, labels, 0.5);
        }
        Map<String, float[]> out = new LinkedHashMap<>();
        s.trainable.forEach((k, p) -> {
            try (NDArray g = p.getArray().getGradient()) {
                out.put(k, g.toFloatArray());
            }
            Gradients.zero(p.getArray());
        });
        return out;
    }

    @Test
    void trainerRefusesAnEmptyParameterSet() {
        Setup s = lora(10, LORA);
        assertThrows(IllegalArgumentException.class,
                () -> new Trainer(config(1, 4, 1e-2, 1), s.vit, new LinkedHashMap<>(), manager));
    }

    /** The dataset of a run that crashes: image reads beyond {@code budget} fail. */
    private static final class FailingAfter implements ImageDataset {
        private final ImageDataset inner;
        private final int budget;
        private final AtomicInteger reads = new AtomicInteger();

        FailingAfter(ImageDataset inner, int budget) {
            this.inner = inner;
            this.budget = budget;
        }

        @Override
        public String name() {
            return inner.name();
        }

        @Override
        public int size() {
            return inner.size();
        }

        @Override
        public List<String> classes() {
            return inner.classes();
        }

        @Override
        public int label(int index) {
            return inner.label(index);
        }

        @Override
        public RawImage image(int index) {
            if (reads.incrementAndGet() > budget) {
                throw new DataException(name() + ": simulated crash");
            }
            return inner.image(index);
        }
    }
}
