package org.peft4j.eval;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-class intersection and union summed over a dataset (the standard mIoU of semantic
 * segmentation: IoU_c = ΣI_c / ΣU_c over all images, not a mean of per-image IoUs). Class 0 is the
 * background; {@link #meanIou} averages the foreground classes that occur (in the ground truth or the
 * predictions), so a domain is not flattered by its easy background.
 */
public final class IouMeter {

    private final List<String> classes;
    private final long[] intersection;
    private final long[] union;

    public IouMeter(List<String> classes) {
        this.classes = List.copyOf(classes);
        intersection = new long[classes.size()];
        union = new long[classes.size()];
    }

    /**
     * One image: {@code predicted[c]} says which pixels were predicted as class c (c ≥ 1; several
     * classes may claim a pixel, each is scored on its own), {@code truth} the class id per pixel.
     * Background is predicted where no class is.
     */
    public void add(boolean[][] predicted, byte[] truth) {
        int n = truth.length;
        for (int c = 1; c < classes.size(); c++) {
            boolean[] p = predicted[c];
            long i = 0;
            long u = 0;
            for (int k = 0; k < n; k++) {
                boolean t = (truth[k] & 0xFF) == c;
                boolean q = p != null && p[k];
                if (t && q) {
                    i++;
                }
                if (t || q) {
                    u++;
                }
            }
            intersection[c] += i;
            union[c] += u;
        }
        long i0 = 0;
        long u0 = 0;
        for (int k = 0; k < n; k++) {
            boolean any = false;
            for (int c = 1; c < classes.size() && !any; c++) {
                any = predicted[c] != null && predicted[c][k];
            }
            boolean t = truth[k] == 0;
            if (t && !any) {
                i0++;
            }
            if (t || !any) {
                u0++;
            }
        }
        intersection[0] += i0;
        union[0] += u0;
    }

    /** IoU of class {@code c}; NaN when it never occurred. */
    public double iou(int c) {
        return union[c] == 0 ? Double.NaN : (double) intersection[c] / union[c];
    }

    /** Mean IoU of the foreground classes that occurred; NaN if none did. */
    public double meanIou() {
        double sum = 0;
        int n = 0;
        for (int c = 1; c < classes.size(); c++) {
            if (union[c] > 0) {
                sum += iou(c);
                n++;
            }
        }
        return n == 0 ? Double.NaN : sum / n;
    }

    /** Class name → IoU, background included, classes that never occurred left out. */
    public Map<String, Double> perClass() {
        Map<String, Double> out = new LinkedHashMap<>();
        for (int c = 0; c < classes.size(); c++) {
            if (union[c] > 0) {
                out.put(classes.get(c), iou(c));
            }
        }
        return out;
    }

    public List<String> classes() {
        return new ArrayList<>(classes);
    }
}
