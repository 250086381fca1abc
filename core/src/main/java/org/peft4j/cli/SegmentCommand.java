package org.peft4j.cli;

import ai.djl.ndarray.NDManager;
import org.peft4j.data.DataException;
import org.peft4j.data.ImageFolder;
import org.peft4j.data.RawImage;
import org.peft4j.io.AtomicFiles;
import org.peft4j.io.Json;
import org.peft4j.io.SafetensorsWriter;
import org.peft4j.models.sam.SamModel;
import org.peft4j.models.sam.SamPredictor;
import org.peft4j.train.SamPretraining;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "segment", mixinStandardHelpOptions = true,
        description = {"Segment an image with SAM from point and box prompts (pixels of the image). Writes one PNG "
                + "overlay per mask and masks.safetensors (masks: logits at the image size, low_res_masks, "
                + "iou_predictions) into --out, and prints one JSON line per mask."})
final class SegmentCommand implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(SegmentCommand.class);
    /** Overlay colours, one per mask. */
    private static final int[][] COLOURS = {{230, 60, 50}, {50, 110, 230}, {60, 190, 80}, {240, 180, 30}};

    @Option(names = "--model", paramLabel = "DIR|NAME", defaultValue = SamPretraining.MODEL,
            description = SamModels.DESCRIPTION + " Default: ${DEFAULT-VALUE}.")
    String model;

    @Option(names = "--adapter", paramLabel = "DIR", description = "Adapter folder for the model (PEFT format).")
    Path adapter;

    @Option(names = "--input", required = true, description = "Image file (PNG, JPEG, BMP, GIF).")
    Path input;

    @Option(names = "--point", paramLabel = "x,y[,label]",
            description = "A point prompt in image pixels; label 1 (default) foreground, 0 background. Repeatable.")
    List<String> points = new ArrayList<>();

    @Option(names = "--box", paramLabel = "x0,y0,x1,y1", description = "A box prompt in image pixels.")
    String box;

    @Option(names = "--multimask", description = "Three masks (SAM's multimask output) instead of one.")
    boolean multimask;

    @Option(names = "--out", required = true, description = "Output folder.")
    Path out;

    @Option(names = "--overwrite", description = "Replace --out if it exists.")
    boolean overwrite;

    @Override
    public Integer call() throws Exception {
        if (points.isEmpty() && box == null) {
            throw new UsageException("give at least one prompt: --point x,y[,label] or --box x0,y0,x1,y1");
        }
        if (!overwrite && !AtomicFiles.isFreeOutput(out)) {
            throw new UsageException("--out " + out + " exists; pass --overwrite to replace it");
        }
        if (input.toAbsolutePath().normalize().startsWith(out.toAbsolutePath().normalize())) {
            throw new UsageException("--out " + out + " holds the input image; choose another folder");
        }
        RawImage image;
        try {
            image = ImageFolder.decode(input);
        } catch (DataException e) {
            throw new UsageException(e.getMessage());
        }
        float[][] xy = new float[points.size()][];
        int[] labels = new int[points.size()];
        for (int i = 0; i < points.size(); i++) {
            float[] v = numbers("--point", points.get(i), 2, 3);
            String what = "--point " + points.get(i);
            checked(() -> SamPredictor.checkPoint(what, v[0], v[1], v.length == 3 ? v[2] : 1, image.width(), image.height()));
            xy[i] = new float[] {v[0], v[1]};
            labels[i] = v.length == 3 ? (int) v[2] : 1;
        }
        float[] b = box == null ? null : numbers("--box", box, 4, 4);
        if (b != null) {
            checked(() -> SamPredictor.checkBox("--box " + box, b, image.width(), image.height()));
        }
        try (NDManager manager = NDManager.newBaseManager()) {
            SamModel sam = SamModels.load(model, adapter, manager, true);
            SamPredictor predictor = new SamPredictor(sam, image, manager);
            SamModel.Masks m = predictor.predict(xy.length == 0 ? null : xy, labels, b, multimask);
            int count = (int) m.masks().getShape().get(1);
            int h = image.height();
            int w = image.width();
            float[] logits = m.masks().toFloatArray();
            float[] iou = m.iou().toFloatArray();
            List<Map<String, Object>> lines = new ArrayList<>();
            AtomicFiles.replaceDirectory(out, tmp -> {
                new SafetensorsWriter().add("masks", m.masks()).add("low_res_masks", m.lowRes())
                        .add("iou_predictions", m.iou()).write(tmp.resolve("masks.safetensors"));
                for (int k = 0; k < count; k++) {
                    long area = 0;
                    BufferedImage overlay = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
                    int[] colour = COLOURS[k % COLOURS.length];
                    for (int y = 0; y < h; y++) {
                        for (int x = 0; x < w; x++) {
                            int c0 = image.get(x, y, 0);
                            int c1 = image.channels() >= 3 ? image.get(x, y, 1) : c0;
                            int c2 = image.channels() >= 3 ? image.get(x, y, 2) : c0;
                            boolean on = logits[(k * h + y) * w + x] > 0f; // SAM's mask threshold
                            if (on) {
                                area++;
                                c0 = (c0 + colour[0]) / 2;
                                c1 = (c1 + colour[1]) / 2;
                                c2 = (c2 + colour[2]) / 2;
                            }
                            overlay.setRGB(x, y, (c0 << 16) | (c1 << 8) | c2);
                        }
                    }
                    String name = "mask-" + k + ".png";
                    AtomicFiles.write(tmp.resolve(name), o -> ImageIO.write(overlay, "png", o));
                    Map<String, Object> line = new LinkedHashMap<>();
                    line.put("mask", k);
                    line.put("iou", (double) iou[k]);
                    line.put("area", area);
                    line.put("fraction", (double) area / ((long) w * h));
                    line.put("png", out.resolve(name).toString());
                    lines.add(line);
                }
            });
            for (Map<String, Object> line : lines) {
                System.out.println(Json.MAPPER.writeValueAsString(line));
            }
        }
        return 0;
    }

    private static float[] numbers(String option, String text, int min, int max) {
        String[] parts = text.split(",", -1);
        if (parts.length < min || parts.length > max) {
            throw new UsageException(option + " " + text + ": expected " + (min == max ? min : min + " or " + max)
                    + " comma-separated numbers");
        }
        float[] v = new float[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                v[i] = Float.parseFloat(parts[i].strip());
            } catch (NumberFormatException e) {
                throw new UsageException(option + " " + text + ": '" + parts[i] + "' is not a number");
            }
            if (!Float.isFinite(v[i])) {
                throw new UsageException(option + " " + text + ": '" + parts[i] + "' is not finite");
            }
        }
        return v;
    }

    private static void checked(Runnable check) {
        try {
            check.run();
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }
}
