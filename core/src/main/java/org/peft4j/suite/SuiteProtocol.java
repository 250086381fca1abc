package org.peft4j.suite;

import org.peft4j.data.suite.SuiteSizes;
import org.peft4j.train.TrainConfig;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How each (task, method) is trained, VTAB-1k style: with {@code tune}, every learning rate of the
 * method's grid is trained on train and scored on val, and the best (ties: the smaller rate) is
 * retrained on train + val once per seed and scored on test. Without it, the grid's largest rate is
 * used directly. Every run trains {@code epochs} epochs and keeps the last epoch's weights.
 *
 * <p>The grids, by family, each two rates a factor ~3 apart that bracketed the best val accuracy on
 * two tasks (textures, count) in a 10-epoch sweep of the default backbone: the head alone
 * {3e-2, 1e-1}; full fine-tuning {1e-3, 3e-3} (a small backbone far from its source task);
 * low-rank updates and bottleneck adapters (lora, dora, pissa, mlae, adapter-*, adaptformer)
 * {3e-3, 1e-2}; per-channel vectors and prompts (ssf, bitfit, ia3, vpt-*, prefix) {1e-2, 3e-2}.
 */
public record SuiteProtocol(String name, SuiteSizes sizes, int epochs, int batchSize, double weightDecay,
                            double warmupRatio, int seeds, boolean tune) {

    /**
     * VTAB-1k sizes, learning rate tuned on val, 3 seeds. 8 epochs (250 optimizer steps on train + val)
     * fit the default suite (8 methods x 9 tasks, 360 runs) into about an hour on 2 cores: one task
     * took 509 s at 10 epochs, 459 s of it training, so 8 epochs take about 417 s a task, 63 minutes in all.
     */
    public static final SuiteProtocol FULL = new SuiteProtocol("full", SuiteSizes.VTAB, 8, 32, 0.01, 0.1, 3, true);
    /** A smoke test: small splits, a few epochs, one seed, no tuning. */
    public static final SuiteProtocol QUICK = new SuiteProtocol("quick", new SuiteSizes(200, 50, 400), 3, 32, 0.01,
            0.1, 1, false);

    /** Learning-rate grids by method family (see above), in increasing order. */
    private static final Map<String, List<Double>> GRIDS = new LinkedHashMap<>();
    private static final Map<String, String> FAMILY = new LinkedHashMap<>();

    static {
        family("head", List.of(3e-2, 1e-1), "head");
        family("full", List.of(1e-3, 3e-3), "full");
        family("low-rank and adapters", List.of(3e-3, 1e-2),
                "lora", "dora", "pissa", "mlae", "adapter-houlsby", "adapter-pfeiffer", "adaptformer", "mopeft");
        family("vectors and prompts", List.of(1e-2, 3e-2), "ssf", "bitfit", "ia3", "vpt-shallow", "vpt-deep", "prefix");
    }

    private static void family(String name, List<Double> grid, String... methods) {
        GRIDS.put(name, grid);
        for (String m : methods) {
            FAMILY.put(m, name);
        }
    }

    public SuiteProtocol {
        if (epochs <= 0 || batchSize <= 0 || seeds <= 0) {
            throw new IllegalArgumentException("epochs, batch size and seeds must be positive");
        }
    }

    public SuiteProtocol withEpochs(int e) {
        return new SuiteProtocol(name, sizes, e, batchSize, weightDecay, warmupRatio, seeds, tune);
    }

    public SuiteProtocol withSeeds(int n) {
        return new SuiteProtocol(name, sizes, epochs, batchSize, weightDecay, warmupRatio, n, tune);
    }

    /** The rates tried for {@code method} (a CLI method name): its grid when tuning, else the grid's largest. */
    public List<Double> learningRates(String method) {
        return tried(grid(method));
    }

    /** Training settings of one run; no best-epoch selection, as the final runs have no validation set. */
    public TrainConfig trainConfig(double learningRate, long seed) {
        return new TrainConfig(epochs, batchSize, learningRate, weightDecay, warmupRatio, 1, 1.0, seed, 50, false);
    }

    /** Everything a result depends on, for settings.json (seeds are not: more can be added later). */
    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("profile", name);
        m.put("train", sizes.train());
        m.put("val", sizes.val());
        m.put("test", sizes.test());
        m.put("epochs", epochs);
        m.put("batch_size", batchSize);
        m.put("weight_decay", weightDecay);
        m.put("warmup_ratio", warmupRatio);
        m.put("tune", tune);
        Map<String, Object> rates = new LinkedHashMap<>();
        GRIDS.forEach((family, grid) -> rates.put(family, tried(grid)));
        m.put("learning_rates", rates);
        return m;
    }

    private List<Double> tried(List<Double> grid) {
        return tune ? grid : List.of(grid.get(grid.size() - 1));
    }

    private static List<Double> grid(String method) {
        String family = FAMILY.get(method);
        if (family == null) {
            throw new IllegalArgumentException("no learning-rate grid for method '" + method + "'");
        }
        return GRIDS.get(family);
    }
}
