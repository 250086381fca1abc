package org.peft4j.segmentation;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.peft4j.data.seg.Regions;
import org.peft4j.models.sam.SamPromptEncoder;

import java.util.List;
import java.util.Random;

/**
 * Prompts for a region, in pixels of the frame its region was found in. Training samples them
 * (a positive point anywhere in the region, sometimes a negative point near it; or the region's box
 * jittered by up to a tenth of each side, as SAM's training does); evaluation uses fixed ones (the
 * region's deepest pixel; its exact box), so every method is scored on the same prompts.
 */
public final class PromptSampler {

    /** Kind of prompt of a batch. */
    public enum Kind { POINT, BOX }

    /** Points per point prompt set: one positive and one negative or padding slot (label −1). */
    static final int POINTS = 2;

    /** One prompt set: {@code points [POINTS][2]} with labels, or a box {@code x0, y0, x1, y1}. */
    public record Prompt(float[][] points, int[] labels, float[] box) {}

    private PromptSampler() {}

    /** A random prompt of {@code kind} on region {@code r} of a {@code w × h} mask (training). */
    public static Prompt sample(Regions.Region r, int w, int h, Kind kind, Random rnd) {
        if (kind == Kind.BOX) {
            float bw = r.x1() - r.x0() + 1;
            float bh = r.y1() - r.y0() + 1;
            float[] box = {
                    jitter(r.x0(), bw, rnd, 0, w - 1), jitter(r.y0(), bh, rnd, 0, h - 1),
                    jitter(r.x1(), bw, rnd, 0, w - 1), jitter(r.y1(), bh, rnd, 0, h - 1)};
            if (box[2] <= box[0]) {
                box[2] = Math.min(w - 1, box[0] + 1);
            }
            if (box[3] <= box[1]) {
                box[3] = Math.min(h - 1, box[1] + 1);
            }
            return new Prompt(null, null, box);
        }
        int p = r.pixels()[rnd.nextInt(r.area())];
        float[][] points = {{p % w, p / w}, {0, 0}};
        int[] labels = {1, -1};
        if (rnd.nextBoolean()) { // a negative point outside the region, within its box grown by half
            int gx = (r.x1() - r.x0() + 1) / 2 + 1;
            int gy = (r.y1() - r.y0() + 1) / 2 + 1;
            for (int tries = 0; tries < 20; tries++) {
                int x = Math.max(0, Math.min(w - 1, r.x0() - gx + rnd.nextInt(r.x1() - r.x0() + 1 + 2 * gx)));
                int y = Math.max(0, Math.min(h - 1, r.y0() - gy + rnd.nextInt(r.y1() - r.y0() + 1 + 2 * gy)));
                if (java.util.Arrays.binarySearch(r.pixels(), y * w + x) < 0) {
                    points[1] = new float[] {x, y};
                    labels[1] = 0;
                    break;
                }
            }
        }
        return new Prompt(points, labels, null);
    }

    /** The fixed evaluation prompt of {@code kind}: the deepest pixel, or the exact box. */
    public static Prompt fixed(Regions.Region r, Kind kind) {
        if (kind == Kind.BOX) {
            return new Prompt(null, null, new float[] {r.x0(), r.y0(), r.x1(), r.y1()});
        }
        return new Prompt(new float[][] {{r.centreX(), r.centreY()}, {0, 0}}, new int[] {1, -1}, null);
    }

    private static float jitter(float v, float side, Random rnd, float lo, float hi) {
        float d = (float) (rnd.nextGaussian() * 0.1 * side);
        d = Math.max(-0.2f * side, Math.min(0.2f * side, d));
        return Math.max(lo, Math.min(hi, v + d));
    }

    /**
     * Prompt sets of one kind as SAM's prompt encoder takes them, each scaled by {@code (sx, sy)}
     * into the model-input frame.
     */
    public static SamPromptEncoder.Prompts batch(List<Prompt> prompts, float[] sx, float[] sy, NDManager m) {
        int b = prompts.size();
        if (prompts.get(0).box() != null) {
            float[] boxes = new float[4 * b];
            for (int i = 0; i < b; i++) {
                float[] box = prompts.get(i).box();
                boxes[4 * i] = box[0] * sx[i];
                boxes[4 * i + 1] = box[1] * sy[i];
                boxes[4 * i + 2] = box[2] * sx[i];
                boxes[4 * i + 3] = box[3] * sy[i];
            }
            return new SamPromptEncoder.Prompts(null, null, m.create(boxes, new Shape(b, 4)), null);
        }
        float[] xy = new float[b * POINTS * 2];
        float[] labels = new float[b * POINTS];
        for (int i = 0; i < b; i++) {
            Prompt p = prompts.get(i);
            for (int k = 0; k < POINTS; k++) {
                xy[(i * POINTS + k) * 2] = p.points()[k][0] * sx[i];
                xy[(i * POINTS + k) * 2 + 1] = p.points()[k][1] * sy[i];
                labels[i * POINTS + k] = p.labels()[k];
            }
        }
        NDArray points = m.create(xy, new Shape(b, POINTS, 2));
        return new SamPromptEncoder.Prompts(points, m.create(labels, new Shape(b, POINTS)), null, null);
    }
}
