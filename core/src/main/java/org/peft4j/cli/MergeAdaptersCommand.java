package org.peft4j.cli;

import ai.djl.ndarray.NDManager;
import org.peft4j.data.DataSpec;
import org.peft4j.data.ImageDataset;
import org.peft4j.io.Json;
import org.peft4j.merge.AdaMerging;
import org.peft4j.merge.AdapterMerging;
import org.peft4j.merge.LoraMerger;
import org.peft4j.merge.MergeMethod;
import org.peft4j.merge.MergeOps;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "merge-adapters", mixinStandardHelpOptions = true,
        description = {"Merge LoRA adapters trained on different tasks into one multi-task adapter (PEFT format) "
                + "that keeps every task's head.",
                "PEFT's add_weighted_adapter types: cat, linear, svd, ties, ties_svd, dare_linear, dare_ties, "
                        + "dare_linear_svd, dare_ties_svd, magnitude_prune, magnitude_prune_svd.",
                "Weight-space (ΔW) methods: task_arithmetic, ties_merging, dare_merging, dare_ties_merging, "
                        + "emr_merging, adamerging, adamerging_layerwise."})
final class MergeAdaptersCommand implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(MergeAdaptersCommand.class);

    @Mixin
    ModelOption model;

    @Option(names = "--adapters", required = true, paramLabel = "[NAME=]DIR,...",
            description = "Adapter folders, comma-separated; each task is named NAME or after its folder.")
    String adapters;

    @Option(names = "--weights", paramLabel = "W,...", description = "One weight per adapter (default 1 each); negative subtracts.")
    String weights;

    @Option(names = "--method", required = true, description = "Merge method (see above).")
    String method;

    @Option(names = "--density", description = "Fraction of entries kept, in (0, 1]: ties*, dare_*, magnitude_prune*, ties_merging, dare_merging, dare_ties_merging.")
    Double density;

    @Option(names = "--majority-sign", paramLabel = "total|frequency",
            description = "Sign election of the TIES methods (default total).")
    String majoritySign;

    @Option(names = "--svd-rank", description = "Rank of the result of the SVD methods (default: PEFT's max rank; weight-space: the sum of the ranks).")
    Integer svdRank;

    @Option(names = "--svd-clamp", description = "Clamp the SVD factors at this quantile, in [0, 1] (PEFT's svd_clamp).")
    Double svdClamp;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of DARE's random masks and AdaMerging's sampling.")
    long seed;

    @Option(names = "--data", paramLabel = "TASK=SPEC,...",
            description = "AdaMerging: unlabeled images per task (the train split of each spec; labels are not read).")
    String data;

    @Option(names = "--ada-steps", defaultValue = "60", description = "AdaMerging: Adam steps (default ${DEFAULT-VALUE}).")
    int adaSteps;

    @Option(names = "--ada-lr", defaultValue = "0.01", description = "AdaMerging: learning rate (default ${DEFAULT-VALUE}).")
    double adaLr;

    @Option(names = "--out", required = true, description = "New merged adapter folder.")
    Path out;

    @Option(names = "--overwrite", description = "Replace --out if it exists.")
    boolean overwrite;

    @Option(names = "--no-progress", description = "No progress bar.")
    boolean noProgress;

    @Override
    public Integer call() throws Exception {
        MergeMethod m;
        List<AdapterMerging.Source> sources;
        LoraMerger.Options options;
        try {
            m = MergeMethod.parse(method);
            sources = AdapterMerging.Source.parseList(adapters);
            checkApplies(m);
            float[] w = weights(sources.size());
            options = new LoraMerger.Options(m, LoraMerger.LayerWeights.constant(w), w.length, density,
                    majoritySign == null ? null : MergeOps.SignMethod.parse(majoritySign), svdRank, svdClamp, seed);
            AdapterMerging.check(sources, options, Models.identity(model.model), out, overwrite);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("method", m.cliName);
        settings.put("weights", toList(options.weights().at("")));
        settings.put("density", density);
        settings.put("majority_sign_method", m.usesSign() ? options.sign().json : null);
        settings.put("svd_rank", svdRank);
        settings.put("svd_clamp", svdClamp);
        settings.put("seed", m.isRandom() || m.isAdaMerging() ? seed : null);
        settings.put("base_model", model.model);
        try (NDManager manager = NDManager.newBaseManager()) {
            AdapterMerging.AdaInput ada = m.isAdaMerging() ? adaInput(sources) : null;
            Map<String, Object> summary;
            try {
                summary = AdapterMerging.run(Models.base(model.model, null, manager), Models.identity(model.model),
                        sources, options, settings, out, overwrite, ada, manager, !noProgress);
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage());
            }
            System.out.println(Json.MAPPER.writeValueAsString(summary));
        }
        return 0;
    }

    private float[] weights(int n) {
        if (weights == null) {
            float[] w = new float[n];
            java.util.Arrays.fill(w, 1f);
            return w;
        }
        String[] parts = weights.split(",", -1);
        if (parts.length != n) {
            throw new IllegalArgumentException("--weights: " + parts.length + " weights for " + n + " adapters");
        }
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            try {
                w[i] = Float.parseFloat(parts[i].strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--weights: '" + parts[i] + "' is not a number");
            }
            if (!Float.isFinite(w[i])) {
                throw new IllegalArgumentException("--weights: '" + parts[i] + "' is not finite");
            }
        }
        return w;
    }

    /**
     * Values out of range are refused; options the method does not use are ignored with a warning
     * (as PEFT ignores them), and left out of merge_info.json, so the record says what was applied.
     */
    private void checkApplies(MergeMethod m) {
        if (density != null && !(density > 0 && density <= 1)) {
            throw new IllegalArgumentException("--density must be in (0, 1], got " + density);
        }
        if (density == null && m.usesDensity()) {
            throw new IllegalArgumentException(m.cliName + " needs --density (the fraction of entries kept, in (0, 1])");
        }
        if (m.isAdaMerging() && data == null) {
            throw new IllegalArgumentException(m.cliName + " learns its coefficients on unlabeled images: give --data TASK=SPEC,...");
        }
        if (density != null && !m.usesDensity()) {
            LOG.warn("--density does not apply to {}: ignored", m.cliName);
            density = null;
        }
        if (majoritySign != null && !m.usesSign()) {
            LOG.warn("--majority-sign does not apply to {}: ignored", m.cliName);
            majoritySign = null;
        }
        if ((svdRank != null || svdClamp != null) && !m.usesSvd()) {
            LOG.warn("--svd-rank and --svd-clamp do not apply to {} (no SVD is taken): ignored", m.cliName);
            svdRank = null;
            svdClamp = null;
        }
        if (data != null && !m.isAdaMerging()) {
            LOG.warn("--data applies to adamerging and adamerging_layerwise only: ignored");
            data = null;
        }
        if (m.isAdaMerging() && weights != null) {
            LOG.warn("--weights do not apply to {} (it learns them): ignored", m.cliName);
            weights = null;
        }
    }

    private AdapterMerging.AdaInput adaInput(List<AdapterMerging.Source> sources) {
        Map<String, String> specs = TaskData.parse(data);
        Map<String, ImageDataset> images = new LinkedHashMap<>();
        for (AdapterMerging.Source s : sources) {
            String spec = specs.get(s.task());
            if (spec == null) {
                throw new UsageException("--data: no images for task '" + s.task() + "'");
            }
            images.put(s.task(), DataSpec.resolve(spec, 0.1, 42).train());
        }
        for (String t : specs.keySet()) {
            if (sources.stream().noneMatch(s -> s.task().equals(t))) {
                throw new UsageException("--data: task '" + t + "' is not among the adapters");
            }
        }
        return new AdapterMerging.AdaInput(images, new AdaMerging.Settings(method.equals("adamerging_layerwise"),
                adaSteps, adaLr, 16, 0.3f, seed));
    }

    private static List<Double> toList(float[] w) {
        List<Double> out = new java.util.ArrayList<>();
        for (float v : w) {
            out.add((double) v);
        }
        return out;
    }
}
