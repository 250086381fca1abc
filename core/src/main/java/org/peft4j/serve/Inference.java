package org.peft4j.serve;

import ai.djl.ndarray.NDManager;
import org.peft4j.data.ImageTransform;
import org.peft4j.models.sam.SamModel;
import org.peft4j.models.sam.SamPredictor;
import org.peft4j.peft.PeftModel;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * Runs the batches the {@link MixedBatcher} gathers on the served model, under the model's lock
 * (adapters load and unload under the same lock). Classification, {@link Batching#MIXED}: one base
 * pass for every row whose adapter can share it (LoRA family; {@link PeftModel#forwardMixed}), and one
 * pass per adapter for the others (prefixes, IA³, MoPEFT, ...); {@link Batching#PER_ADAPTER}: one pass
 * per adapter for all (how PEFT users serve several adapters without mixed batches; kept as the
 * benchmark's baseline). Segmentation runs each request's image through SAM with its adapter.
 */
final class Inference {

    /** How a classification batch with several adapters runs. */
    enum Batching { MIXED, PER_ADAPTER }

    /** One SAM prediction: {@code count} masks of {@code height × width} logits (row-major) and their IoU estimates. */
    record Masks(int count, int height, int width, float[] logits, float[] iou) {}

    private final PeftModel peft;
    private final AdapterCache cache;
    private final ImageTransform transform;
    private final NDManager manager;
    private final Batching batching;
    private final IntConsumer batchSizes;

    /** {@code transform}: the classifier's input transform (null when the model is SAM). */
    Inference(PeftModel peft, AdapterCache cache, ImageTransform transform, NDManager manager, Batching batching,
              IntConsumer batchSizes) {
        this.peft = peft;
        this.cache = cache;
        this.transform = transform;
        this.manager = manager;
        this.batching = batching;
        this.batchSizes = batchSizes;
    }

    /** Answers every job of {@code batch} (a failed adapter load fails only the jobs that asked for it). */
    void run(List<MixedBatcher.Job> batch) {
        synchronized (peft) {
            List<String> names = new ArrayList<>();
            batch.forEach(j -> names.add(j.adapter()));
            Map<String, ApiError> failed = cache.acquire(names);
            List<MixedBatcher.Classify> classify = new ArrayList<>();
            for (MixedBatcher.Job job : batch) {
                if (job.adapter() != null && failed.containsKey(job.adapter())) {
                    job.answer().completeExceptionally(failed.get(job.adapter()));
                } else if (job instanceof MixedBatcher.Classify c) {
                    classify.add(c);
                } else if (job instanceof MixedBatcher.Segment s) {
                    segment(s);
                }
            }
            if (!classify.isEmpty()) {
                classify(classify);
                batchSizes.accept(classify.size());
            }
        }
    }

    private void classify(List<MixedBatcher.Classify> jobs) {
        List<org.peft4j.data.RawImage> images = new ArrayList<>();
        List<String> adapters = new ArrayList<>();
        for (MixedBatcher.Classify job : jobs) {
            images.add(job.image());
            adapters.add(job.adapter());
        }
        float[][] logits = peft.classify(images, adapters, transform, manager, batching == Batching.MIXED);
        for (int i = 0; i < jobs.size(); i++) {
            jobs.get(i).answer().complete(logits[i]);
        }
    }

    private void segment(MixedBatcher.Segment job) {
        SamModel sam = (SamModel) peft.base();
        try (NDManager step = manager.newSubManager()) {
            activate(job.adapter());
            SamPredictor predictor = new SamPredictor(sam, job.image(), step);
            List<Masks> out = new ArrayList<>();
            for (MixedBatcher.Prompt p : job.prompts()) {
                SamModel.Masks m = predictor.predict(p.points(), p.labels(), p.box(), job.multimask());
                out.add(new Masks((int) m.masks().getShape().get(1), predictor.height(), predictor.width(),
                        m.masks().toFloatArray(), m.iou().toFloatArray()));
            }
            job.answer().complete(out);
        } finally {
            peft.disableAdapters();
        }
    }

    private void activate(String adapter) {
        if (adapter == null) {
            peft.disableAdapters();
        } else {
            peft.setActiveAdapters(adapter);
        }
    }
}
