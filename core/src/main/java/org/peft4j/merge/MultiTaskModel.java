package org.peft4j.merge;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import org.peft4j.data.Batch;
import org.peft4j.data.BatchLoader;
import org.peft4j.data.ImageDataset;
import org.peft4j.data.RawImage;
import org.peft4j.data.ImageTransform;
import org.peft4j.eval.ConfusionMatrix;
import org.peft4j.eval.Metrics;
import org.peft4j.models.MultiHeadClassifier;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.nn.ForwardContext;
import org.peft4j.peft.PeftModel;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A merged adapter deployed: the base ViT carrying the merged LoRA and one head per task
 * ({@link MultiHeadClassifier}), so a batch of any tasks' images costs one backbone pass. EMR merges
 * give each task its own modulated ΔW; they run task by task, each with its exact weights.
 */
public final class MultiTaskModel {

    /** One task's score: top-1 accuracy, image count, mean cross-entropy, and the confusion matrix. */
    public record TaskScore(String task, double accuracy, long n, double loss, ConfusionMatrix confusion) {
        public Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("task", task);
            m.put("accuracy", accuracy);
            m.put("n", n);
            m.put("loss", loss);
            m.put("per_class", confusion.toJson().get("per_class"));
            return m;
        }
    }

    private final VitForImageClassification vit;
    private final MergedAdapter merged;
    private final MultiHeadClassifier heads;
    private final NDManager manager;

    private MultiTaskModel(VitForImageClassification vit, MergedAdapter merged, MultiHeadClassifier heads,
                           NDManager manager) {
        this.vit = vit;
        this.merged = merged;
        this.heads = heads;
        this.manager = manager;
    }

    /**
     * Puts {@code merged} on {@code vit} (a freshly loaded base model, whose own head serves tasks
     * without one) with the heads of {@code tasks} (all tasks when null).
     */
    public static MultiTaskModel load(VitForImageClassification vit, MergedAdapter merged, List<String> tasks,
                                      NDManager manager) throws IOException {
        if (!merged.isEmr()) {
            PeftModel peft = new PeftModel(vit, vit.headPath(), manager);
            peft.load(merged.dir(), PeftModel.DEFAULT_ADAPTER);
        }
        MultiHeadClassifier heads = new MultiHeadClassifier(vit);
        for (String task : tasks == null ? merged.taskNames() : tasks) {
            addHead(heads, vit, task, merged.headTensors(task), merged.labels(task),
                    merged.dir().resolve(MergedAdapter.HEADS_DIR).resolve(task), manager);
        }
        return new MultiTaskModel(vit, merged, heads, manager);
    }

    /**
     * Adds task {@code task}'s head from its tensors by parameter path ({@code classifier.weight});
     * a task without tensors gets the base model's own head. {@code from} names the source in errors.
     */
    static void addHead(MultiHeadClassifier heads, VitForImageClassification vit, String task,
                        Map<String, float[]> tensors, List<String> labels, Path from, NDManager manager)
            throws IOException {
        String w = vit.headPath() + ".weight";
        String b = vit.headPath() + ".bias";
        Map<String, float[]> t = tensors;
        if (t.isEmpty()) { // no head of its own: the base model's
            t = Map.of(w, vit.head().weight().getArray().toFloatArray(), b, vit.head().bias().getArray().toFloatArray());
            labels = vit.config().labels();
        }
        if (!t.containsKey(w)) {
            throw new IOException(from + ": no '" + w + "' tensor; its head does not fit this model (tensors: "
                    + t.keySet() + ")");
        }
        if (labels == null) {
            labels = defaultLabels((int) (t.get(w).length / vit.featureSize()));
        }
        try {
            heads.addHead(task, t.get(w), t.get(b), labels, manager);
        } catch (IllegalArgumentException e) {
            throw new IOException(from + ": " + e.getMessage(), e);
        }
    }

    private static List<String> defaultLabels(int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add("LABEL_" + i);
        }
        return out;
    }

    public MultiHeadClassifier heads() {
        return heads;
    }

    public List<String> classes(String task) {
        MultiHeadClassifier.Head h = heads.heads().get(task);
        if (h == null) {
            throw new IllegalArgumentException("no task '" + task + "'; tasks: " + heads.heads().keySet());
        }
        return h.classes();
    }

    /**
     * Scores every task on its dataset ({@code data}: task → images; classes must match its head).
     * Batches mix tasks freely: one backbone pass per batch feeds every head present in it.
     */
    public LinkedHashMap<String, TaskScore> evaluate(LinkedHashMap<String, ImageDataset> data, ImageTransform transform,
                                                    int batchSize) throws IOException {
        data.forEach((task, ds) -> {
            if (!classes(task).equals(ds.classes())) {
                throw new IllegalArgumentException("label mismatch: head '" + task + "' predicts " + classes(task)
                        + " but " + ds.name() + " has classes " + ds.classes());
            }
        });
        LinkedHashMap<String, TaskScore> out = new LinkedHashMap<>();
        if (merged.isEmr()) { // each task has its own weights: one task at a time
            for (Map.Entry<String, ImageDataset> e : data.entrySet()) {
                merged.applyEmrTask(e.getKey(), vit, 1);
                try {
                    LinkedHashMap<String, ImageDataset> one = new LinkedHashMap<>();
                    one.put(e.getKey(), e.getValue());
                    out.putAll(score(one, transform, batchSize));
                } finally {
                    merged.applyEmrTask(e.getKey(), vit, -1);
                }
            }
            return out;
        }
        out.putAll(score(data, transform, batchSize));
        return out;
    }

    private LinkedHashMap<String, TaskScore> score(LinkedHashMap<String, ImageDataset> data, ImageTransform transform,
                                                  int batchSize) {
        List<String> order = new ArrayList<>(heads.heads().keySet());
        Tagged all = new Tagged(data, order);
        Map<String, ConfusionMatrix> cms = new LinkedHashMap<>();
        Map<String, Double> loss = new LinkedHashMap<>();
        data.forEach((task, ds) -> {
            cms.put(task, new ConfusionMatrix(ds.classes()));
            loss.put(task, 0.0);
        });
        int seen = 0;
        try (BatchLoader loader = new BatchLoader(all, transform, batchSize, false, 0, 0, false)) {
            for (Batch batch : loader) {
                int[] tasks = new int[batch.size()];
                System.arraycopy(all.taskOf, seen, tasks, 0, batch.size());
                int[] labels = batch.labels();
                try (NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    NDArray x = manager.create(batch.pixels(),
                            new Shape(batch.size(), batch.channels(), batch.height(), batch.width()));
                    LinkedHashMap<String, NDArray> logits = heads.forwardRouted(x, tasks, ForwardContext.INFERENCE);
                    for (Map.Entry<String, NDArray> e : logits.entrySet()) {
                        int t = order.indexOf(e.getKey());
                        int[] mine = rowsOf(labels, tasks, t);
                        NDArray l = e.getValue();
                        int classes = (int) l.getShape().get(1);
                        cms.get(e.getKey()).addAll(Metrics.argmax(l.toFloatArray(), mine.length, classes), mine);
                        loss.merge(e.getKey(), (double) org.peft4j.train.Trainer.crossEntropy(l, mine).getFloat()
                                * mine.length, Double::sum);
                    }
                }
                seen += batch.size();
            }
        }
        LinkedHashMap<String, TaskScore> out = new LinkedHashMap<>();
        cms.forEach((task, cm) -> out.put(task, new TaskScore(task, cm.accuracy(), cm.total(),
                cm.total() == 0 ? Double.NaN : loss.get(task) / cm.total(), cm)));
        return out;
    }

    private static int[] rowsOf(int[] labels, int[] tasks, int t) {
        return java.util.stream.IntStream.range(0, labels.length).filter(i -> tasks[i] == t).map(i -> labels[i]).toArray();
    }

    /** Several tasks' images as one dataset, task by task, remembering each image's task. */
    private static final class Tagged implements ImageDataset {
        private final List<ImageDataset> parts = new ArrayList<>();
        private final int[] taskOf;
        private final int[] start;
        private final int size;

        Tagged(LinkedHashMap<String, ImageDataset> data, List<String> order) {
            int n = data.values().stream().mapToInt(ImageDataset::size).sum();
            taskOf = new int[n];
            start = new int[data.size() + 1];
            int i = 0;
            int p = 0;
            for (Map.Entry<String, ImageDataset> e : data.entrySet()) {
                parts.add(e.getValue());
                start[p] = i;
                int t = order.indexOf(e.getKey());
                for (int k = 0; k < e.getValue().size(); k++) {
                    taskOf[i++] = t;
                }
                p++;
            }
            start[p] = i;
            size = n;
        }

        private int part(int index) {
            int p = 0;
            while (start[p + 1] <= index) {
                p++;
            }
            return p;
        }

        @Override
        public String name() {
            return "tasks";
        }

        @Override
        public int size() {
            return size;
        }

        @Override
        public List<String> classes() {
            int max = parts.stream().mapToInt(d -> d.classes().size()).max().orElse(0);
            return defaultLabels(max);
        }

        @Override
        public int label(int index) {
            int p = part(index);
            return parts.get(p).label(index - start[p]);
        }

        @Override
        public RawImage image(int index) {
            int p = part(index);
            return parts.get(p).image(index - start[p]);
        }
    }
}
