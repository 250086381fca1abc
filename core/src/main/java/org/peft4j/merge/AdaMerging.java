package org.peft4j.merge;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.GradientCollector;
import me.tongfei.progressbar.ProgressBar;
import org.peft4j.data.ImageDataset;
import org.peft4j.data.ImageTransform;
import org.peft4j.models.MultiHeadClassifier;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.LayerHook;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.WeightDelta;
import org.peft4j.tuners.AdapterModel;
import org.peft4j.tuners.Injection;
import org.peft4j.tuners.TargetModules;
import org.peft4j.train.Progress;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * AdaMerging (Yang et al. 2024): the merge coefficients of task arithmetic, {@code W = W₀ + Σᵢ λᵢ ΔWᵢ},
 * learned by minimising the prediction entropy of each task's head on unlabeled images of that task
 * (test-time adaptation: no labels are read). Task-wise: one λ per task; layer-wise: one per task
 * and per block (layers outside blocks share one group). Only the λ train, with Adam; the ΔWᵢ are
 * the adapters' true weight changes, so any LoRA-family adapter takes part.
 */
public final class AdaMerging {

    /** The adapter name the mixing hooks use while learning. */
    private static final String HOOK = "adamerging";

    /** Steps of Adam, its learning rate, images per task per step, the initial λ (the paper's 0.3), the sampling seed. */
    public record Settings(boolean layerWise, int steps, double learningRate, int batchSize, float init, long seed) {
        public Settings {
            if (steps <= 0 || batchSize <= 0 || !(learningRate > 0)) {
                throw new IllegalArgumentException("AdaMerging needs positive steps, batch size and learning rate");
            }
        }
    }

    /** Learned λ: {@code values[group][task]}; the groups are block indices (layer-wise) or one group. */
    public record Coefficients(List<String> tasks, List<String> groups, float[][] values, List<Double> entropy) {
        /** As per-layer weights for {@link LoraMerger}. */
        public LoraMerger.LayerWeights asLayerWeights() {
            return path -> values[groups.indexOf(groupOf(path, groups.size() > 1))];
        }

        public Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("tasks", tasks);
            Map<String, Object> byGroup = new LinkedHashMap<>();
            for (int g = 0; g < groups.size(); g++) {
                List<Double> row = new ArrayList<>();
                for (float v : values[g]) {
                    row.add((double) v);
                }
                byGroup.put(groups.get(g), row);
            }
            m.put("coefficients", byGroup);
            m.put("entropy_first", entropy.isEmpty() ? null : entropy.get(0));
            m.put("entropy_last", entropy.isEmpty() ? null : entropy.get(entropy.size() - 1));
            return m;
        }
    }

    private AdaMerging() {}

    /** The λ group of a layer: its block index ("block 3"), or "all" when task-wise. */
    static String groupOf(String path, boolean layerWise) {
        if (!layerWise) {
            return "all";
        }
        int i = TargetModules.layerIndex(path);
        return i < 0 ? "other" : "block " + i;
    }

    /**
     * Learns the coefficients for adapters {@code tasks} loaded in {@code model}, whose heads are
     * {@code heads} (same names, backbone = the model). The model is left as it was.
     */
    public static Coefficients learn(AdapterModel model, List<String> tasks, MultiHeadClassifier heads,
                                     Map<String, ImageDataset> unlabeled, ImageTransform transform, Settings s,
                                     NDManager manager, boolean progress) {
        for (String t : tasks) {
            if (!unlabeled.containsKey(t) || unlabeled.get(t).size() == 0) {
                throw new IllegalArgumentException("AdaMerging needs unlabeled images of task '" + t + "'");
            }
            if (!heads.heads().containsKey(t)) {
                throw new IllegalArgumentException("AdaMerging needs the head of task '" + t + "'");
            }
        }
        List<String> previous = model.activeAdapters();
        model.unmerge();
        Map<String, LinearLayer> layers = model.base().modulesOfType(LinearLayer.class);
        Set<String> paths = new LinkedHashSet<>();
        for (String t : tasks) {
            model.placements(t).forEach(pl -> paths.add(pl.path()));
        }
        List<String> groups = new ArrayList<>();
        paths.forEach(p -> {
            String g = groupOf(p, s.layerWise());
            if (!groups.contains(g)) {
                groups.add(g);
            }
        });
        float[][] lambda = new float[groups.size()][tasks.size()];
        for (float[] row : lambda) {
            java.util.Arrays.fill(row, s.init());
        }
        NDArray[] current = new NDArray[1];
        List<Mixer> mixers = new ArrayList<>();
        try (NDManager work = manager.newSubManager()) {
            for (String path : paths) {
                mixers.add(new Mixer(layers.get(path), deltas(model, tasks, path, layers.get(path), work),
                        groups.indexOf(groupOf(path, s.layerWise())), current));
            }
            model.disableAdapters();
            mixers.forEach(m -> {
                m.layer.hooks().add(HOOK, m);
                m.layer.hooks().setActive(List.of(HOOK));
            });
            List<Double> entropy = optimise(lambda, current, tasks, heads, unlabeled, transform, s, work, progress);
            return new Coefficients(List.copyOf(tasks), groups, lambda, entropy);
        } finally {
            mixers.forEach(m -> m.layer.hooks().remove(HOOK));
            model.setActiveAdapters(previous.toArray(String[]::new));
        }
    }

    /** {@code [tasks, out·in]}: each task's ΔW at {@code path} (zeros where it has none), a constant. */
    private static NDArray deltas(AdapterModel model, List<String> tasks, String path, LinearLayer layer, NDManager work) {
        NDList rows = new NDList();
        try (NDScope scope = new NDScope()) {
            for (String t : tasks) {
                WeightDelta hook = null;
                for (Injection.Placement<?> pl : model.placements(t)) {
                    if (pl.path().equals(path) && pl.hook() instanceof WeightDelta d) {
                        hook = d;
                    }
                }
                if (hook == null && model.placements(t).stream().anyMatch(pl -> pl.path().equals(path))) {
                    throw new IllegalArgumentException("adapter '" + t + "' at '" + path + "' is not a weight change");
                }
                rows.add(hook == null ? layer.weight().getArray().zerosLike().reshape(-1) : hook.weightDelta().reshape(-1));
            }
            NDArray stacked = NDArrays.stack(rows, 0);
            stacked.attach(work);
            NDScope.unregister(stacked); // lives in work until learning ends
            return stacked;
        }
    }

    private static List<Double> optimise(float[][] lambda, NDArray[] current, List<String> tasks,
                                         MultiHeadClassifier heads, Map<String, ImageDataset> unlabeled,
                                         ImageTransform transform, Settings s, NDManager work, boolean progress) {
        int groups = lambda.length;
        int n = tasks.size();
        float[] m = new float[groups * n];
        float[] v = new float[groups * n];
        double beta1 = 0.9;
        double beta2 = 0.999;
        SplittableRandom rng = new SplittableRandom(s.seed());
        List<Double> history = new ArrayList<>();
        try (ProgressBar bar = progress ? Progress.bar("adamerging", s.steps()) : null) {
            for (int step = 1; step <= s.steps(); step++) {
                float[] grad;
                double total = 0;
                try (NDManager stepManager = work.newSubManager(); NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    NDArray lam = stepManager.create(flatten(lambda), new Shape(groups, n));
                    lam.setRequiresGradient(true);
                    current[0] = lam;
                    try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                        NDArray loss = null;
                        for (String t : tasks) {
                            NDArray x = sample(unlabeled.get(t), transform, s.batchSize(), rng, stepManager);
                            NDArray logits = forwardHead(heads, t, x);
                            NDArray h = logits.softmax(1).mul(logits.logSoftmax(1)).sum(new int[] {1}).neg().mean();
                            loss = loss == null ? h : loss.add(h);
                        }
                        collector.backward(loss);
                        total = loss.getFloat();
                    }
                    grad = lam.getGradient().toFloatArray();
                    current[0] = null;
                }
                history.add(total / n);
                double c1 = 1 - Math.pow(beta1, step);
                double c2 = 1 - Math.pow(beta2, step);
                for (int i = 0; i < grad.length; i++) {
                    m[i] = (float) (beta1 * m[i] + (1 - beta1) * grad[i]);
                    v[i] = (float) (beta2 * v[i] + (1 - beta2) * grad[i] * grad[i]);
                    double update = s.learningRate() * (m[i] / c1) / (Math.sqrt(v[i] / c2) + 1e-8);
                    lambda[i / n][i % n] -= (float) update;
                }
                if (bar != null) {
                    bar.step();
                    bar.setExtraMessage(String.format(Locale.ROOT, " entropy %.4f", total / n));
                }
            }
        }
        return history;
    }

    private static NDArray forwardHead(MultiHeadClassifier heads, String task, NDArray x) {
        MultiHeadClassifier.Head h = heads.heads().get(task);
        NDArray f = heads.backbone().features(x, ForwardContext.INFERENCE);
        return Linear.linear(f, h.weight(), h.bias()).singletonOrThrow();
    }

    private static NDArray sample(ImageDataset ds, ImageTransform transform, int batch, SplittableRandom rng,
                                  NDManager manager) {
        int b = Math.min(batch, ds.size());
        int per = transform.floatsPerImage();
        float[] pixels = new float[b * per];
        for (int i = 0; i < b; i++) {
            transform.apply(ds.image(rng.nextInt(ds.size())), pixels, i * per);
        }
        return manager.create(pixels, new Shape(b, transform.channels(), transform.size(), transform.size()));
    }

    private static float[] flatten(float[][] a) {
        float[] out = new float[a.length * a[0].length];
        for (int g = 0; g < a.length; g++) {
            System.arraycopy(a[g], 0, out, g * a[g].length, a[g].length);
        }
        return out;
    }

    /** Adds {@code x · (Σᵢ λ_gᵢ ΔWᵢ)ᵀ} to a layer's output, with the λ of the current step. */
    private static final class Mixer implements LayerHook {
        final LinearLayer layer;
        final NDArray deltas;
        final int group;
        final NDArray[] lambda;

        Mixer(LinearLayer layer, NDArray deltas, int group, NDArray[] lambda) {
            this.layer = layer;
            this.deltas = deltas;
            this.group = group;
            this.lambda = lambda;
        }

        @Override
        public Map<String, Parameter> parameters() {
            return Map.of();
        }

        @Override
        public NDArray adaptOutput(NDArray x, NDArray base, NDArray y, ForwardContext ctx) {
            NDArray l = lambda[0].get(group).reshape(1, -1);
            NDArray mixed = l.matMul(deltas).reshape(layer.outFeatures(), layer.inFeatures());
            return y.add(Linear.linear(x, mixed).singletonOrThrow());
        }
    }
}
