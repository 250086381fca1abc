package org.peft4j.models.sam;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.peft4j.data.RawImage;
import org.peft4j.nn.ForwardContext;

/**
 * Prompted segmentation of one image, as the official {@code SamPredictor}: the image resized so its
 * longer side is the model input (bilinear, aspect kept, sides rounded half up), normalised and
 * padded, encoded once; prompts in original-image pixels are mapped to the resized frame; masks come
 * back at the original size. Resizing here is plain bilinear; the official code resizes with PIL.
 */
public final class SamPredictor {

    private final SamModel model;
    private final NDManager manager;
    private final int originalH;
    private final int originalW;
    private final int inputH;
    private final int inputW;
    private final NDArray embedding;

    /** Encodes {@code image} (gray images are repeated to RGB; alpha is dropped). */
    public SamPredictor(SamModel model, RawImage image, NDManager manager) {
        this.model = model;
        this.manager = manager;
        int size = model.config().encoder().imgSize();
        originalH = image.height();
        originalW = image.width();
        double scale = (double) size / Math.max(originalH, originalW);
        inputH = (int) (originalH * scale + 0.5);
        inputW = (int) (originalW * scale + 0.5);
        float[] rgb = new float[3 * originalH * originalW];
        for (int c = 0; c < 3; c++) {
            int src = image.channels() >= 3 ? c : 0;
            for (int y = 0; y < originalH; y++) {
                for (int x = 0; x < originalW; x++) {
                    rgb[(c * originalH + y) * originalW + x] = image.get(x, y, src);
                }
            }
        }
        NDArray resized = Resize.bilinear(manager.create(rgb, new Shape(3, originalH, originalW)), inputH, inputW);
        embedding = model.forward(model.preprocess(resized), ForwardContext.INFERENCE);
    }

    /**
     * Checks a point prompt in image pixels: inside the {@code width × height} image, label 1
     * (foreground) or 0 (background); {@code what} names it in the message.
     *
     * @throws IllegalArgumentException saying what is wrong
     */
    public static void checkPoint(String what, float x, float y, float label, int width, int height) {
        if (label != 0 && label != 1) {
            throw new IllegalArgumentException(what + ": the label must be 1 (foreground) or 0 (background), got " + label);
        }
        inside(what, x, y, width, height);
    }

    /** Checks a box prompt {@code x0, y0, x1, y1}: inside the image, {@code x0 < x1} and {@code y0 < y1}. */
    public static void checkBox(String what, float[] box, int width, int height) {
        inside(what, box[0], box[1], width, height);
        inside(what, box[2], box[3], width, height);
        if (box[2] <= box[0] || box[3] <= box[1]) {
            throw new IllegalArgumentException(what + ": needs x0 < x1 and y0 < y1");
        }
    }

    private static void inside(String what, float x, float y, int width, int height) {
        if (!(x >= 0 && y >= 0 && x <= width && y <= height)) {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "%s: (%s, %s) is outside the %dx%d image",
                    what, x, y, width, height));
        }
    }

    public int width() {
        return originalW;
    }

    public int height() {
        return originalH;
    }

    /**
     * Masks for one prompt set: {@code points [N][2]} (x, y) in original pixels with {@code labels}
     * (1 foreground, 0 background), and/or {@code box} (x0, y0, x1, y1); either may be null.
     */
    public SamModel.Masks predict(float[][] points, int[] labels, float[] box, boolean multimask) {
        float sx = (float) inputW / originalW;
        float sy = (float) inputH / originalH;
        NDArray p = null;
        NDArray l = null;
        if (points != null && points.length > 0) {
            float[] xy = new float[points.length * 2];
            float[] lab = new float[points.length];
            for (int i = 0; i < points.length; i++) {
                xy[2 * i] = points[i][0] * sx;
                xy[2 * i + 1] = points[i][1] * sy;
                lab[i] = labels[i];
            }
            p = manager.create(xy, new Shape(1, points.length, 2));
            l = manager.create(lab, new Shape(1, points.length));
        }
        NDArray b = box == null ? null
                : manager.create(new float[] {box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy}, new Shape(1, 4));
        return model.segment(embedding, new SamPromptEncoder.Prompts(p, l, b, null), multimask, inputH, inputW,
                originalH, originalW, ForwardContext.INFERENCE);
    }
}
