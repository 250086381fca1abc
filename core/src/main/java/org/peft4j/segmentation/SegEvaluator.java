package org.peft4j.segmentation;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import org.peft4j.data.RawImage;
import org.peft4j.data.seg.Regions;
import org.peft4j.data.seg.SegMask;
import org.peft4j.data.seg.SegmentationDataset;
import org.peft4j.eval.IouMeter;
import org.peft4j.models.sam.SamModel;
import org.peft4j.nn.ForwardContext;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Promptable segmentation scored as semantic segmentation: every region of every test mask (see
 * {@link Regions}) is prompted once with a fixed point (its deepest pixel) and once with its exact
 * box; the predicted masks of a class's regions together are that class's prediction, scored by
 * per-class IoU over the dataset ({@link IouMeter}). Regions under {@link #MIN_AREA} pixels get no
 * prompt, so their pixels count as missed.
 */
public final class SegEvaluator {

    /** Regions smaller than this are not prompted (noise specks). */
    public static final int MIN_AREA = 8;

    /** An image, its truth and the predicted class per pixel (point prompts), for the report's pictures. */
    public record Example(RawImage image, SegMask truth, SegMask predicted) {}

    /** Scores with point and with box prompts, and a few examples. */
    public record Evaluation(IouMeter point, IouMeter box, int images, int regions, List<Example> examples) {
        public double meanIouPoint() {
            return point.meanIou();
        }

        public double meanIouBox() {
            return box.meanIou();
        }

        public Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("miou_point", point.meanIou());
            m.put("miou_box", box.meanIou());
            m.put("iou_point", point.perClass());
            m.put("iou_box", box.perClass());
            m.put("images", images);
            m.put("regions", regions);
            return m;
        }
    }

    private SegEvaluator() {}

    public static Evaluation evaluate(SamModel sam, SegmentationDataset ds, int batchSize, int examples, NDManager manager) {
        IouMeter point = new IouMeter(ds.classes());
        IouMeter box = new IouMeter(ds.classes());
        List<Example> shown = new ArrayList<>();
        int regionsSeen = 0;
        int size = sam.config().encoder().imgSize();
        for (int start = 0; start < ds.size(); start += batchSize) {
            int b = Math.min(batchSize, ds.size() - start);
            List<SamInput> inputs = new ArrayList<>();
            List<RawImage> images = new ArrayList<>();
            List<SegMask> masks = new ArrayList<>();
            float[] pixels = new float[b * 3 * size * size];
            for (int i = 0; i < b; i++) {
                SegmentationDataset.Sample sample = ds.sample(start + i);
                RawImage img = sample.image();
                SegMask mask = sample.mask();
                SamInput in = SamInput.of(img, mask, sam.config());
                System.arraycopy(in.pixels(), 0, pixels, i * 3 * size * size, 3 * size * size);
                inputs.add(in);
                images.add(img);
                masks.add(mask);
            }
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                NDArray embeddings = sam.forward(manager.create(pixels, new Shape(b, 3, size, size)), ForwardContext.INFERENCE);
                for (int i = 0; i < b; i++) {
                    SegMask truth = masks.get(i);
                    List<Regions.Region> regions = Regions.of(truth, MIN_AREA);
                    regionsSeen += regions.size();
                    NDArray embedding = embeddings.get(i).expandDims(0);
                    float[][] pointLogits = predict(sam, embedding, regions, PromptSampler.Kind.POINT, inputs.get(i), manager);
                    float[][] boxLogits = predict(sam, embedding, regions, PromptSampler.Kind.BOX, inputs.get(i), manager);
                    point.add(byClass(pointLogits, regions, ds.classes().size()), truth.ids());
                    box.add(byClass(boxLogits, regions, ds.classes().size()), truth.ids());
                    if (shown.size() < examples) {
                        shown.add(new Example(images.get(i), truth, paint(pointLogits, regions, truth)));
                    }
                }
            }
        }
        return new Evaluation(point, box, ds.size(), regionsSeen, shown);
    }

    /** Mask logits at the original size, one row per region. */
    private static float[][] predict(SamModel sam, NDArray embedding, List<Regions.Region> regions, PromptSampler.Kind kind,
                                     SamInput in, NDManager manager) {
        if (regions.isEmpty()) {
            return new float[0][];
        }
        List<PromptSampler.Prompt> prompts = new ArrayList<>();
        float[] sx = new float[regions.size()];
        float[] sy = new float[regions.size()];
        for (int r = 0; r < regions.size(); r++) {
            prompts.add(PromptSampler.fixed(regions.get(r), kind));
            sx[r] = in.scaleX();
            sy[r] = in.scaleY();
        }
        var o = sam.decode(embedding, PromptSampler.batch(prompts, sx, sy, manager), false, ForwardContext.INFERENCE);
        NDArray masks = sam.postprocess(o.lowResMasks(), in.inputH(), in.inputW(), in.originalH(), in.originalW());
        float[] all = masks.toFloatArray();
        int n = in.originalH() * in.originalW();
        float[][] out = new float[regions.size()][];
        for (int r = 0; r < regions.size(); r++) {
            out[r] = java.util.Arrays.copyOfRange(all, r * n, (r + 1) * n);
        }
        return out;
    }

    /** Pixels predicted for each class: the union of its regions' masks (logit > 0, SAM's threshold). */
    private static boolean[][] byClass(float[][] logits, List<Regions.Region> regions, int classes) {
        boolean[][] out = new boolean[classes][];
        for (int r = 0; r < regions.size(); r++) {
            int c = regions.get(r).classId();
            if (out[c] == null) {
                out[c] = new boolean[logits[r].length];
            }
            for (int k = 0; k < logits[r].length; k++) {
                out[c][k] |= logits[r][k] > 0f;
            }
        }
        return out;
    }

    /** One class per pixel: that of the most confident positive mask, else background. */
    private static SegMask paint(float[][] logits, List<Regions.Region> regions, SegMask truth) {
        byte[] ids = new byte[truth.ids().length];
        float[] best = new float[ids.length];
        for (int r = 0; r < regions.size(); r++) {
            for (int k = 0; k < ids.length; k++) {
                if (logits[r][k] > best[k]) {
                    best[k] = logits[r][k];
                    ids[k] = (byte) regions.get(r).classId();
                }
            }
        }
        return new SegMask(truth.width(), truth.height(), ids);
    }
}
