package org.peft4j.train;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import org.peft4j.data.seg.SegmentationDataset;
import org.peft4j.io.AtomicFiles;
import org.peft4j.io.Json;
import org.peft4j.models.sam.SamCheckpoint;
import org.peft4j.models.sam.SamModel;
import org.peft4j.nn.Module;
import org.peft4j.peft.PeftModel;
import org.peft4j.segmentation.SegEvaluator;
import org.peft4j.tuners.TunerConfig;
import org.peft4j.tuners.mopeft.MopeftConfig;
import org.peft4j.tuners.mopeft.MopeftModel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One promptable-segmentation fine-tuning of SAM end to end: choose what trains (an adapter, with
 * or without the mask decoder, the decoder alone, or nothing: zero-shot), train ({@link SegTrainer}), score the test
 * split with fixed point and box prompts ({@link SegEvaluator}), save. {@code train --task
 * segmentation} and the segmentation suite both run through here.
 */
public final class SegFineTuning {

    private static final Logger LOG = LoggerFactory.getLogger(SegFineTuning.class);
    /** The method that trains nothing: the model scored as it is. */
    public static final String ZERO_SHOT = "zero-shot";

    /** One run's result; {@code gates} is MoPEFT's mean gate per block and submodule on the test images (else null). */
    public record Outcome(String method, SegEvaluator.Evaluation test, long trainableParams, long allParams,
                          double imagesPerSecond, double seconds, Map<String, Map<String, Double>> gates,
                          SegTrainer.Result training) {
        public double trainablePercent() {
            return allParams == 0 ? 0 : 100.0 * trainableParams / allParams;
        }

        public Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("method", method);
            m.putAll(test.toJson());
            m.put("trainable_params", trainableParams);
            m.put("all_params", allParams);
            m.put("trainable_percent", trainablePercent());
            m.put("images_per_s", imagesPerSecond);
            m.put("seconds", seconds);
            if (gates != null) {
                m.put("gates", gates);
            }
            return m;
        }
    }

    private SegFineTuning() {}

    /**
     * Trains {@code sam} with {@code method} ({@code tuner} its config; null for decoder-only) and
     * writes to {@code outDir}: the adapter folder (PEFT layout) or, for decoder-only, a whole SAM
     * model folder; metrics.jsonl, the resumable checkpoint/, and gates.json for MoPEFT.
     */
    public static Outcome run(SamModel sam, String method, TunerConfig tuner, TrainConfig config,
                              SegmentationDataset train, SegmentationDataset test, Path outDir, NDManager manager,
                              boolean progress, boolean resume, int examples) throws IOException {
        long t0 = System.nanoTime();
        PeftModel peft = null;
        Map<String, Parameter> trainable;
        long all = count(sam.namedParameters());
        if (tuner != null) {
            peft = new PeftModel(sam, null, manager);
            peft.addAdapter(PeftModel.DEFAULT_ADAPTER, tuner);
            trainable = peft.trainableParameters();
            all = peft.counts().all();
        } else if (method.equals(ZERO_SHOT)) {
            trainable = new LinkedHashMap<>();
            sam.setTrainable(false);
        } else {
            sam.setTrainable(false);
            sam.maskDecoder().setTrainable(true);
            trainable = new LinkedHashMap<>();
            for (Map.Entry<String, Parameter> e : sam.maskDecoder().namedParameters().entrySet()) {
                trainable.put(Module.join("mask_decoder", e.getKey()), e.getValue());
            }
        }
        LOG.info(new PeftModel.ParameterCounts(count(trainable), all).summary());
        Files.createDirectories(outDir);
        if (!resume) {
            Files.deleteIfExists(outDir.resolve("metrics.jsonl"));
        }
        SegTrainer.Result result = trainable.isEmpty() ? null : new SegTrainer(config, sam, trainable, manager)
                .metricsTo(outDir.resolve("metrics.jsonl"))
                .checkpointTo(outDir.resolve("checkpoint"), resume)
                .showProgress(progress)
                .fit(train);
        boolean gated = tuner instanceof MopeftConfig;
        if (gated) {
            MopeftModel.gateSummary(peft.placements(PeftModel.DEFAULT_ADAPTER)); // forget nothing seen in training
        }
        SegEvaluator.Evaluation eval = SegEvaluator.evaluate(sam, test, config.batchSize(), examples, manager);
        Map<String, Map<String, Double>> gates = null;
        if (gated) {
            gates = MopeftModel.gateSummary(peft.placements(PeftModel.DEFAULT_ADAPTER));
            AtomicFiles.writeString(outDir.resolve(FineTuning.GATES_FILE), Json.toPythonStyle(gates) + "\n");
        }
        if (peft != null) {
            peft.save(outDir, PeftModel.DEFAULT_ADAPTER);
        } else if (result != null) {
            SamCheckpoint.save(sam, outDir, SamCheckpoint.Naming.OFFICIAL);
        }
        return new Outcome(method, eval, count(trainable), all, result == null ? 0 : result.imagesPerSecond(),
                (System.nanoTime() - t0) / 1e9, gates, result);
    }

    private static long count(Map<String, Parameter> params) {
        return params.values().stream().mapToLong(Module::numel).sum();
    }
}
