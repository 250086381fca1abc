package org.peft4j.spark;

import ai.djl.ndarray.NDManager;
import org.peft4j.data.ImageTransform;
import org.peft4j.data.RawImage;
import org.peft4j.models.vit.VitCheckpoint;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.peft.AdapterLabels;
import org.peft4j.peft.PeftModel;
import org.peft4j.train.FineTuning;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The models an executor JVM holds: each base model is loaded once per JVM, however many tasks and
 * partitions use it, and its adapters are loaded by name when first asked for. Tasks of one JVM
 * share a model under its lock (libtorch already uses the cores inside each forward).
 */
public final class ExecutorModels {

    private static final Map<String, Classifier> CLASSIFIERS = new ConcurrentHashMap<>();

    private ExecutorModels() {}

    /**
     * The classifier for {@code model} with {@code adapters} (name → folder) loaded; the base head takes
     * the class names of the first adapter that has its own (as {@code peft4j serve} does).
     */
    static Classifier classifier(String model, Map<String, String> adapters) {
        String key = model + "|" + new java.util.TreeMap<>(adapters);
        return CLASSIFIERS.computeIfAbsent(key, k -> {
            try {
                return new Classifier(Path.of(model), adapters);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /**
     * Checks on the driver, before any task starts, what the executors will load: the model folder
     * and every adapter folder. Throws {@link IllegalArgumentException} with one line naming the path.
     */
    public static void check(String model, Map<String, String> adapters) {
        Path dir = Path.of(model);
        if (!Files.isRegularFile(dir.resolve("config.json")) || !Files.isRegularFile(dir.resolve(VitCheckpoint.WEIGHTS_FILE))) {
            throw new IllegalArgumentException(model + ": not a model folder (config.json + model.safetensors)");
        }
        for (Map.Entry<String, String> e : adapters.entrySet()) {
            Path a = Path.of(e.getValue());
            if (!Files.isRegularFile(a.resolve(PeftModel.CONFIG_FILE)) || !Files.isRegularFile(a.resolve(PeftModel.WEIGHTS_FILE))) {
                throw new IllegalArgumentException("adapter " + e.getKey() + "=" + e.getValue()
                        + ": not an adapter folder (adapter_config.json + adapter_model.safetensors)");
            }
        }
        try {
            AdapterLabels.sharedHead(folders(adapters));
        } catch (IOException e) {
            throw new IllegalArgumentException(e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("adapter " + e.getMessage());
        }
    }

    private static Map<String, Path> folders(Map<String, String> adapters) {
        Map<String, Path> out = new LinkedHashMap<>();
        adapters.forEach((name, dir) -> out.put(name, Path.of(dir)));
        return out;
    }

    /** A ViT with adapters, predicting (image, adapter) pairs in mixed batches. */
    static final class Classifier {

        private final NDManager manager = NDManager.newBaseManager();
        private final VitForImageClassification vit;
        private final PeftModel peft;
        private final ImageTransform transform;
        private final Map<String, String> folders;
        private final Map<String, List<String>> labels = new LinkedHashMap<>();
        private final Set<String> loaded = new HashSet<>();

        Classifier(Path model, Map<String, String> adapters) throws IOException {
            vit = VitCheckpoint.load(model, manager, new VitCheckpoint.Options(AdapterLabels.sharedHead(folders(adapters)), null));
            peft = new PeftModel(vit, vit.headPath(), manager);
            transform = FineTuning.transformFor(vit);
            folders = Map.copyOf(adapters);
        }

        /** Class names of {@code adapter}'s head (null: the base's). */
        synchronized List<String> labels(String adapter) throws IOException {
            if (adapter == null) {
                return vit.config().labels();
            }
            ensure(adapter);
            return labels.get(adapter);
        }

        private void ensure(String adapter) throws IOException {
            if (loaded.contains(adapter)) {
                return;
            }
            String dir = folders.get(adapter);
            if (dir == null) {
                throw new IllegalArgumentException("no adapter '" + adapter + "'");
            }
            peft.load(Path.of(dir), adapter);
            peft.disableAdapters();
            List<String> l = AdapterLabels.read(Path.of(dir));
            labels.put(adapter, l != null ? l : vit.config().labels());
            loaded.add(adapter);
        }

        /**
         * Logits of each (image, adapter) pair, row i = {@code images.get(i)} under {@code adapters.get(i)}
         * (null: the base), in batches of at most {@code batchSize} rows.
         */
        synchronized float[][] logits(List<RawImage> images, List<String> adapters, int batchSize) throws IOException {
            for (String a : adapters) {
                if (a != null) {
                    ensure(a);
                }
            }
            float[][] out = new float[images.size()][];
            for (int from = 0; from < images.size(); from += batchSize) {
                int to = Math.min(images.size(), from + batchSize);
                float[][] chunk = peft.classify(images.subList(from, to), new ArrayList<>(adapters.subList(from, to)), transform,
                        manager, true);
                System.arraycopy(chunk, 0, out, from, chunk.length);
            }
            return out;
        }
    }
}
