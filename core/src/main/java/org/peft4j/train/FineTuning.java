package org.peft4j.train;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import org.peft4j.data.DataSpec;
import org.peft4j.data.ImageTransform;
import org.peft4j.eval.ConfusionMatrix;
import org.peft4j.models.vit.VitCheckpoint;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.nn.Module;
import org.peft4j.peft.AdapterLabels;
import org.peft4j.peft.PeftModel;
import org.peft4j.tuners.TunerConfig;
import org.peft4j.tuners.mopeft.MopeftConfig;
import org.peft4j.tuners.mopeft.MopeftModel;
import org.peft4j.io.AtomicFiles;
import org.peft4j.io.Json;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One fine-tuning job end to end: choose what trains (a tuner's adapter, the head only, or
 * everything), train, test, save. The CLI's {@code train} and the demo's comparison table both run through here.
 */
public final class FineTuning {

    /** MoPEFT's mean gate per block and submodule on the test images, beside the adapter. */
    public static final String GATES_FILE = "gates.json";

    private static final Logger LOG = LoggerFactory.getLogger(FineTuning.class);

    /** One method's result; {@code method} is its CLI name (lora, mlae, head, full, ...). */
    public record Outcome(String method, double testAccuracy, double bestValAccuracy, long trainableParams,
                          long allParams, double imagesPerSecond, double seconds, ConfusionMatrix confusion,
                          Trainer.Result training) {
        public double trainablePercent() {
            return allParams == 0 ? 0 : 100.0 * trainableParams / allParams;
        }

        public Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("method", method);
            m.put("accuracy", testAccuracy);
            m.put("best_val_accuracy", bestValAccuracy);
            m.put("trainable_params", trainableParams);
            m.put("all_params", allParams);
            m.put("trainable_percent", trainablePercent());
            m.put("images_per_s", imagesPerSecond);
            m.put("seconds", seconds);
            return m;
        }
    }

    private FineTuning() {}

    /**
     * Trains {@code model} (whose head already has the data's labels) with {@code method} and writes
     * the result to {@code outDir}: the adapter folder for a tuner method ({@code tuner} its config),
     * a full model (config.json + model.safetensors) for head and full, beside metrics.jsonl and the
     * resumable checkpoint/.
     */
    public static Outcome run(VitForImageClassification model, String method, TunerConfig tuner, TrainConfig config,
                              DataSpec.Splits data, Path outDir, NDManager manager, boolean progress,
                              boolean resume) throws IOException {
        long t0 = System.nanoTime();
        PeftModel peft = null;
        LinkedHashMap<String, Parameter> trainable;
        long all;
        if (tuner != null) {
            peft = new PeftModel(model, model.headPath(), manager);
            peft.addAdapter(PeftModel.DEFAULT_ADAPTER, tuner);
            trainable = peft.trainableParameters();
            all = peft.counts().all();
        } else if (method.equals("head")) {
            model.setTrainable(false);
            model.head().setTrainable(true);
            trainable = prefixed(model.head().namedParameters(), model.headPath());
            all = count(model.namedParameters());
        } else if (method.equals("full")) {
            model.setTrainable(true);
            trainable = model.namedParameters();
            all = count(trainable);
        } else {
            throw new IllegalArgumentException("method '" + method + "' needs a tuner config");
        }
        LOG.info(new PeftModel.ParameterCounts(count(trainable), all).summary());
        ImageTransform transform = transformFor(model);
        Files.createDirectories(outDir);
        if (!resume) {
            Files.deleteIfExists(outDir.resolve("metrics.jsonl")); // a new run starts a new history
        }
        Trainer trainer = new Trainer(config, model, trainable, manager)
                .metricsTo(outDir.resolve("metrics.jsonl"))
                .checkpointTo(outDir.resolve("checkpoint"), resume)
                .showProgress(progress);
        Trainer.Result result = trainer.fit(data.train(), data.val(), transform);
        boolean gated = tuner instanceof MopeftConfig;
        if (gated) {
            MopeftModel.gateSummary(peft.placements(PeftModel.DEFAULT_ADAPTER)); // forget what validation saw
        }
        Trainer.Evaluation test = Trainer.evaluate(model, data.test(), transform, config.batchSize(), manager);
        if (gated) { // which submodule the data chose where: the mean gates on the test images
            Map<String, Map<String, Double>> gates = MopeftModel.gateSummary(peft.placements(PeftModel.DEFAULT_ADAPTER));
            Files.createDirectories(outDir);
            AtomicFiles.writeString(outDir.resolve(GATES_FILE), Json.toPythonStyle(gates) + "\n");
            LOG.info("MoPEFT mean gates on the test images (by block): {}", gates);
        }
        if (peft != null) {
            peft.save(outDir, PeftModel.DEFAULT_ADAPTER);
            AdapterLabels.write(outDir, model.config().labels());
        } else {
            VitCheckpoint.save(model, outDir);
        }
        return new Outcome(method, test.accuracy(), result.bestValAccuracy(), count(trainable), all,
                result.imagesPerSecond(), (System.nanoTime() - t0) / 1e9, test.confusion(), result);
    }

    /** Images resized and normalised as the model expects. */
    public static ImageTransform transformFor(VitForImageClassification model) {
        var c = model.config();
        return new ImageTransform(c.imageSize(), c.numChannels(), c.imageMean(), c.imageStd());
    }

    private static LinkedHashMap<String, Parameter> prefixed(Map<String, Parameter> params, String prefix) {
        LinkedHashMap<String, Parameter> out = new LinkedHashMap<>();
        params.forEach((k, v) -> out.put(Module.join(prefix, k), v));
        return out;
    }

    private static long count(Map<String, Parameter> params) {
        return params.values().stream().mapToLong(Module::numel).sum();
    }
}
