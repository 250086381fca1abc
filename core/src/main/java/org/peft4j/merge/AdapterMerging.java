package org.peft4j.merge;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import org.peft4j.data.ImageDataset;
import org.peft4j.io.AtomicFiles;
import org.peft4j.io.Json;
import org.peft4j.models.MultiHeadClassifier;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.peft.AdapterLabels;
import org.peft4j.peft.PeftModel;
import org.peft4j.tuners.AdapterModel;
import org.peft4j.train.FineTuning;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Merging adapter folders into a merged-adapter folder ({@link MergedAdapter}): the checks a user
 * needs before anything is computed, loading, optional AdaMerging, merging, writing. Bad input
 * throws IllegalArgumentException (or {@link org.peft4j.tuners.AdapterMismatchException}) naming
 * the adapter or option, before anything is written.
 */
public final class AdapterMerging {

    /** One input: its task name and adapter folder. */
    public record Source(String task, Path dir) {
        /** {@code NAME=DIR} or {@code DIR} (the task is then the folder's name), comma-separated. */
        public static List<Source> parseList(String spec) {
            List<Source> out = new ArrayList<>();
            Set<String> seen = new HashSet<>();
            for (String part : spec.split(",", -1)) {
                String p = part.strip();
                if (p.isEmpty()) {
                    throw new IllegalArgumentException("empty adapter in '" + spec + "'");
                }
                int eq = p.indexOf('=');
                Path dir = Path.of(eq >= 0 ? p.substring(eq + 1) : p);
                String task = eq >= 0 ? p.substring(0, eq) : dir.toAbsolutePath().normalize().getFileName().toString();
                checkTaskName(task);
                if (!seen.add(task)) {
                    throw new IllegalArgumentException("task '" + task + "' is given twice (name them: NAME=DIR)");
                }
                out.add(new Source(task, dir));
            }
            return out;
        }
    }

    static void checkTaskName(String task) {
        if (!task.matches("[A-Za-z0-9][A-Za-z0-9_.+-]*")) {
            throw new IllegalArgumentException("bad task name '" + task + "': letters, digits, _ . + - only");
        }
    }

    /** Unlabeled images per task and settings, for AdaMerging. */
    public record AdaInput(Map<String, ImageDataset> images, AdaMerging.Settings settings) {}

    private AdapterMerging() {}

    /**
     * Checks everything that needs no tensors: the adapter folders exist and agree on their base
     * model (with each other and with {@code baseModel}, the merge's model as adapters record it,
     * when given), the weights fit, the output does not clobber an input or an existing folder.
     */
    public static void check(List<Source> sources, LoraMerger.Options options, String baseModel, Path out,
                             boolean overwrite) throws IOException {
        if (sources.isEmpty()) {
            throw new IllegalArgumentException("--adapters: nothing to merge");
        }
        if (options.count() != sources.size()) {
            throw new IllegalArgumentException("--weights: " + options.count() + " weights for " + sources.size()
                    + " adapters");
        }
        String base = null;
        String baseFrom = null;
        for (Source s : sources) {
            Path config = s.dir().resolve(AdapterModel.CONFIG_FILE);
            if (!Files.isRegularFile(config)) {
                throw new IllegalArgumentException("adapter '" + s.task() + "': " + config + " not found");
            }
            JsonNode json = Json.readFile(config);
            String bias = json.path("bias").asText("none");
            if (!bias.equals("none")) {
                throw new IllegalArgumentException("adapter '" + s.task() + "' trains base biases (bias=\"" + bias
                        + "\"); merged adapters share one backbone, so only bias=\"none\" adapters merge");
            }
            String b = json.path("base_model_name_or_path").isTextual() ? json.get("base_model_name_or_path").asText() : null;
            if (b != null && base != null && !sameModel(b, base)) {
                throw new IllegalArgumentException("adapters '" + baseFrom + "' and '" + s.task()
                        + "' were trained on different base models (" + base + " and " + b + ")");
            }
            if (b != null && baseModel != null && !sameModel(b, baseModel)) {
                throw new IllegalArgumentException("adapter '" + s.task() + "' was trained on " + b
                        + ", not on --model " + baseModel);
            }
            if (b != null && base == null) {
                base = b;
                baseFrom = s.task();
            }
            Path abs = s.dir().toAbsolutePath().normalize();
            Path o = out.toAbsolutePath().normalize();
            if (abs.startsWith(o)) {
                throw new IllegalArgumentException("--out " + out + " would replace the input adapter '" + s.task() + "'");
            }
        }
        if (!overwrite && !AtomicFiles.isFreeOutput(out)) {
            throw new IllegalArgumentException("--out " + out + " exists; pass --overwrite to replace it");
        }
    }

    /**
     * Whether two recorded base models are the same: equal names, or folders whose config.json and
     * model.safetensors are byte for byte equal (a copied or moved model is still the same model).
     */
    static boolean sameModel(String a, String b) throws IOException {
        if (a.equals(b)) {
            return true;
        }
        Path x = Path.of(a);
        Path y = Path.of(b);
        if (!Files.isDirectory(x) || !Files.isDirectory(y)) {
            return false;
        }
        for (String f : List.of("config.json", "model.safetensors")) {
            Path fx = x.resolve(f);
            Path fy = y.resolve(f);
            if (!Files.isRegularFile(fx) || !Files.isRegularFile(fy) || Files.size(fx) != Files.size(fy)
                    || Files.mismatch(fx, fy) != -1) {
                return false;
            }
        }
        return true;
    }

    /**
     * Merges {@code sources} on {@code base} (a freshly loaded base model; {@code baseModel} its
     * recorded name, or null) into {@code out}; returns merge_info's summary. {@code ada} is needed
     * for the AdaMerging methods only.
     */
    public static Map<String, Object> run(VitForImageClassification base, String baseModel, List<Source> sources,
                                          LoraMerger.Options options, Map<String, Object> settings, Path out,
                                          boolean overwrite, AdaInput ada, NDManager manager, boolean progress)
            throws IOException {
        check(sources, options, baseModel, out, overwrite);
        PeftModel peft = new PeftModel(base, base.headPath(), manager);
        List<String> tasks = new ArrayList<>();
        for (Source s : sources) {
            peft.loadWithoutHeads(s.dir(), s.task());
            tasks.add(s.task());
        }
        requireSameLayers(peft, tasks, options.method());
        LoraMerger.Options effective = options;
        Map<String, Object> extra = new LinkedHashMap<>(settings);
        if (options.method().isAdaMerging()) {
            if (ada == null) {
                throw new IllegalArgumentException(options.method().cliName + " learns its coefficients on unlabeled "
                        + "images of every task: give --data TASK=SPEC,...");
            }
            MultiHeadClassifier heads = adapterHeads(base, sources, manager);
            AdaMerging.Coefficients c = AdaMerging.learn(peft, tasks, heads, ada.images(),
                    FineTuning.transformFor(base), ada.settings(), manager, progress);
            effective = new LoraMerger.Options(options.method(), c.asLayerWeights(), options.count(), null, null,
                    options.svdRank(), options.svdClamp(), options.seed());
            extra.put("adamerging", c.toJson());
        }
        LoraMerger.Result result = LoraMerger.merge(peft, tasks, effective);
        float[] weights = options.weights().at("");
        MergedAdapter.write(out, result, tasks, sources.stream().map(Source::dir).toList(), weights, extra);
        Map<String, Object> summary = new LinkedHashMap<>(result.info());
        summary.put("out", out.toString());
        summary.put("tasks", tasks);
        return summary;
    }

    /** PEFT's factor-space methods combine A's and B's layer by layer: the adapters must adapt the same layers. */
    private static void requireSameLayers(PeftModel peft, List<String> tasks, MergeMethod method) {
        if (method.space != MergeMethod.Space.PEFT_FACTORS || tasks.size() < 2) {
            return;
        }
        Set<String> first = layers(peft, tasks.get(0));
        for (String t : tasks.subList(1, tasks.size())) {
            Set<String> other = layers(peft, t);
            if (!other.equals(first)) {
                Set<String> diff = new java.util.TreeSet<>(first);
                diff.removeAll(other);
                Set<String> extra = new java.util.TreeSet<>(other);
                extra.removeAll(first);
                throw new IllegalArgumentException("adapters '" + tasks.get(0) + "' and '" + t + "' adapt different layers"
                        + " (target modules differ: only in the first " + sample(diff) + ", only in the second "
                        + sample(extra) + "); " + method.cliName
                        + " mixes their factors layer by layer; use cat, svd or a weight-space method");
            }
        }
    }

    private static Set<String> layers(PeftModel peft, String task) {
        Set<String> out = new java.util.LinkedHashSet<>();
        peft.placements(task).forEach(pl -> out.add(pl.path()));
        return out;
    }

    private static String sample(Set<String> s) {
        List<String> l = new ArrayList<>(s);
        return l.size() <= 2 ? l.toString() : l.subList(0, 2) + " and " + (l.size() - 2) + " more";
    }

    /** The input adapters' own heads on {@code base} (tasks without one use the base head). */
    static MultiHeadClassifier adapterHeads(VitForImageClassification base, List<Source> sources, NDManager manager)
            throws IOException {
        MultiHeadClassifier heads = new MultiHeadClassifier(base);
        for (Source s : sources) {
            Map<String, float[]> t = new LinkedHashMap<>();
            MergedAdapter.readAdapterHead(s.dir(), t, new LinkedHashMap<>());
            MultiTaskModel.addHead(heads, base, s.task(), t, AdapterLabels.read(s.dir()), s.dir(), manager);
        }
        return heads;
    }
}
