package org.peft4j.mergestudy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import org.peft4j.data.ImageDataset;
import org.peft4j.data.ImageTransform;
import org.peft4j.models.vit.VitCheckpoint;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.WeightDelta;
import org.peft4j.peft.PeftModel;
import org.peft4j.train.FineTuning;
import org.peft4j.tuners.Injection;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Three ways to say how alike two tasks are, each a symmetric matrix over the tasks:
 * <ul>
 * <li><b>data</b>: the cosine of the two tasks' mean backbone features (of the frozen base model,
 *     centred on the mean over all tasks), on {@link #PROBE} test images per task: how alike the
 *     data look to the backbone, before any adaptation (the paper's "similar data");</li>
 * <li><b>delta</b>: the cosine of the adapters' weight updates ΔW, all layers together: how alike
 *     the changes are;</li>
 * <li><b>cka</b>: linear CKA (Kornblith et al. 2019) between the features the two adapted models
 *     compute for the same images (every task's probes): how alike the adapted representations are.</li>
 * </ul>
 */
public final class Similarity {

    /** Test images per task fed to the backbone. */
    public static final int PROBE = 64;

    public record Matrices(List<String> tasks, double[][] data, double[][] delta, double[][] cka) {
        public double get(String measure, String a, String b) {
            double[][] m = switch (measure) {
                case "data" -> data;
                case "delta" -> delta;
                case "cka" -> cka;
                default -> throw new IllegalArgumentException("no similarity '" + measure + "'");
            };
            return m[tasks.indexOf(a)][tasks.indexOf(b)];
        }

        /** The mean similarity over the pairs of a combination. */
        public double mean(String measure, List<String> combo) {
            double sum = 0;
            int n = 0;
            for (int i = 0; i < combo.size(); i++) {
                for (int j = i + 1; j < combo.size(); j++) {
                    sum += get(measure, combo.get(i), combo.get(j));
                    n++;
                }
            }
            return sum / n;
        }

        public Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("tasks", tasks);
            m.put("data", data);
            m.put("delta", delta);
            m.put("cka", cka);
            return m;
        }

        public static Matrices fromJson(JsonNode n) {
            List<String> tasks = new ArrayList<>();
            n.path("tasks").forEach(t -> tasks.add(t.asText()));
            return new Matrices(tasks, matrix(n.path("data")), matrix(n.path("delta")), matrix(n.path("cka")));
        }

        private static double[][] matrix(JsonNode n) {
            double[][] m = new double[n.size()][];
            for (int i = 0; i < n.size(); i++) {
                m[i] = new double[n.get(i).size()];
                for (int j = 0; j < m[i].length; j++) {
                    m[i][j] = n.get(i).get(j).asDouble();
                }
            }
            return m;
        }
    }

    public static final List<String> MEASURES = List.of("data", "delta", "cka");

    private Similarity() {}

    /** The three matrices for adapters {@code adapters} (task → folder) on base {@code modelDir}. */
    public static Matrices compute(Path modelDir, Map<String, Path> adapters, Map<String, ImageDataset> probes)
            throws IOException {
        List<String> tasks = new ArrayList<>(adapters.keySet());
        int n = tasks.size();
        try (NDManager manager = NDManager.newBaseManager()) {
            VitForImageClassification vit = VitCheckpoint.load(modelDir, manager);
            PeftModel peft = new PeftModel(vit, vit.headPath(), manager);
            for (String t : tasks) {
                peft.loadWithoutHeads(adapters.get(t), t);
            }
            NDArray x = probeImages(tasks, probes, FineTuning.transformFor(vit), manager);
            // data: base features, per-task mean, centred on the overall mean
            peft.disableAdapters();
            double[][] base = features(vit, x);
            double[][] means = new double[n][];
            double[] overall = mean(base, 0, base.length);
            int per = base.length / n;
            for (int t = 0; t < n; t++) {
                means[t] = mean(base, t * per, (t + 1) * per);
                for (int k = 0; k < overall.length; k++) {
                    means[t][k] -= overall[k];
                }
            }
            // delta: every adapter's ΔW over the union of the adapted layers
            List<double[]> deltas = deltas(peft, tasks);
            // cka: the adapted models' features on the same images
            List<double[][]> adapted = new ArrayList<>();
            for (String t : tasks) {
                peft.setActiveAdapters(t);
                adapted.add(center(features(vit, x)));
            }
            double[][] data = new double[n][n];
            double[][] delta = new double[n][n];
            double[][] cka = new double[n][n];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    data[i][j] = cosine(means[i], means[j]);
                    delta[i][j] = cosine(deltas.get(i), deltas.get(j));
                    cka[i][j] = linearCka(adapted.get(i), adapted.get(j));
                }
            }
            return new Matrices(tasks, data, delta, cka);
        }
    }

    private static NDArray probeImages(List<String> tasks, Map<String, ImageDataset> probes, ImageTransform transform,
                                       NDManager manager) {
        int per = Integer.MAX_VALUE;
        for (String t : tasks) {
            per = Math.min(per, Math.min(PROBE, probes.get(t).size()));
        }
        if (per == 0) {
            throw new IllegalArgumentException("a task has no test images to probe");
        }
        int size = transform.floatsPerImage();
        float[] pixels = new float[tasks.size() * per * size];
        int i = 0;
        for (String t : tasks) {
            ImageDataset ds = probes.get(t);
            for (int k = 0; k < per; k++) {
                // spread over the split, so every class shows up
                transform.apply(ds.image((int) ((long) k * ds.size() / per)), pixels, i++ * size);
            }
        }
        return manager.create(pixels, new Shape(i, transform.channels(), transform.size(), transform.size()));
    }

    private static double[][] features(VitForImageClassification vit, NDArray x) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray f = vit.features(x, ForwardContext.INFERENCE);
            int rows = (int) f.getShape().get(0);
            int cols = (int) f.getShape().get(1);
            float[] v = f.toFloatArray();
            double[][] out = new double[rows][cols];
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    out[r][c] = v[r * cols + c];
                }
            }
            return out;
        }
    }

    private static List<double[]> deltas(PeftModel peft, List<String> tasks) {
        Set<String> paths = new LinkedHashSet<>();
        tasks.forEach(t -> peft.placements(t).forEach(pl -> paths.add(pl.path())));
        List<double[]> out = new ArrayList<>();
        for (String t : tasks) {
            Map<String, float[]> byPath = new LinkedHashMap<>();
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                for (Injection.Placement<?> pl : peft.placements(t)) {
                    if (pl.hook() instanceof WeightDelta d) {
                        byPath.put(pl.path(), d.weightDelta().toFloatArray());
                    }
                }
            }
            List<Double> flat = new ArrayList<>();
            int size = byPath.values().stream().mapToInt(a -> a.length).max().orElse(0);
            for (String p : paths) {
                float[] v = byPath.get(p);
                int len = v != null ? v.length : size;
                for (int k = 0; k < len; k++) {
                    flat.add(v != null ? (double) v[k] : 0.0);
                }
            }
            out.add(flat.stream().mapToDouble(Double::doubleValue).toArray());
        }
        return out;
    }

    private static double[] mean(double[][] rows, int from, int to) {
        double[] m = new double[rows[0].length];
        for (int r = from; r < to; r++) {
            for (int c = 0; c < m.length; c++) {
                m[c] += rows[r][c] / (to - from);
            }
        }
        return m;
    }

    private static double[][] center(double[][] x) {
        double[] m = mean(x, 0, x.length);
        double[][] out = new double[x.length][];
        for (int r = 0; r < x.length; r++) {
            out[r] = new double[m.length];
            for (int c = 0; c < m.length; c++) {
                out[r][c] = x[r][c] - m[c];
            }
        }
        return out;
    }

    static double cosine(double[] a, double[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        int n = Math.min(a.length, b.length);
        for (int i = 0; i < n; i++) {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return na == 0 || nb == 0 ? 0 : dot / Math.sqrt(na * nb);
    }

    /** Linear CKA of centred features: {@code ‖YᵀX‖²_F / (‖XᵀX‖_F ‖YᵀY‖_F)}. */
    static double linearCka(double[][] x, double[][] y) {
        double xy = frobeniusSquared(cross(y, x));
        double xx = Math.sqrt(frobeniusSquared(cross(x, x)));
        double yy = Math.sqrt(frobeniusSquared(cross(y, y)));
        return xx == 0 || yy == 0 ? 0 : xy / (xx * yy);
    }

    /** {@code aᵀ b} for row-major {@code [n, p]} and {@code [n, q]}. */
    private static double[][] cross(double[][] a, double[][] b) {
        int p = a[0].length;
        int q = b[0].length;
        double[][] out = new double[p][q];
        for (int r = 0; r < a.length; r++) {
            for (int i = 0; i < p; i++) {
                double v = a[r][i];
                for (int j = 0; j < q; j++) {
                    out[i][j] += v * b[r][j];
                }
            }
        }
        return out;
    }

    private static double frobeniusSquared(double[][] m) {
        double s = 0;
        for (double[] row : m) {
            for (double v : row) {
                s += v * v;
            }
        }
        return s;
    }
}
