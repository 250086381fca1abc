package org.peft4j.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.core.Linear;
import org.peft4j.nn.ForwardContext;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One backbone, several task heads: each forward runs the backbone once and feeds every head (a
 * merged multi-task adapter's deployment form). Heads are plain {@code y = x Wᵀ + b} on the pooled
 * features, each with its own classes.
 */
public final class MultiHeadClassifier {

    /** One task's head: {@code weight [classes, features]}, {@code bias [classes]} (nullable), its class names. */
    public record Head(NDArray weight, NDArray bias, List<String> classes) {}

    private final FeatureExtractor backbone;
    private final LinkedHashMap<String, Head> heads = new LinkedHashMap<>();

    public MultiHeadClassifier(FeatureExtractor backbone) {
        this.backbone = backbone;
    }

    /** Adds task {@code name}'s head from row-major {@code weight} and {@code bias} values. */
    public void addHead(String name, float[] weight, float[] bias, List<String> classes, NDManager manager) {
        long d = backbone.featureSize();
        if (weight.length != classes.size() * d || (bias != null && bias.length != classes.size())) {
            throw new IllegalArgumentException("head '" + name + "': weight has " + weight.length + " values and bias "
                    + (bias == null ? 0 : bias.length) + " for " + classes.size() + " classes x " + d + " features");
        }
        if (heads.containsKey(name)) {
            throw new IllegalArgumentException("head '" + name + "' already exists");
        }
        NDArray w = manager.create(weight, new ai.djl.ndarray.types.Shape(classes.size(), d));
        NDArray b = bias == null ? null : manager.create(bias);
        heads.put(name, new Head(w, b, List.copyOf(classes)));
    }

    public Map<String, Head> heads() {
        return heads;
    }

    public FeatureExtractor backbone() {
        return backbone;
    }

    /** Every head's logits on every image, from one backbone pass. */
    public LinkedHashMap<String, NDArray> forward(NDArray pixels, ForwardContext ctx) {
        NDArray f = backbone.features(pixels, ctx);
        LinkedHashMap<String, NDArray> out = new LinkedHashMap<>();
        heads.forEach((name, h) -> out.put(name, apply(h, f)));
        return out;
    }

    /**
     * A batch mixing tasks: image i belongs to task {@code tasks[i]} (an index into the heads' order).
     * One backbone pass; each head runs on its own rows only. Returns each task's logits for its rows,
     * in row order (tasks absent from the batch are left out).
     */
    public LinkedHashMap<String, NDArray> forwardRouted(NDArray pixels, int[] tasks, ForwardContext ctx) {
        NDArray f = backbone.features(pixels, ctx);
        List<String> names = new ArrayList<>(heads.keySet());
        LinkedHashMap<String, NDArray> out = new LinkedHashMap<>();
        for (int t = 0; t < names.size(); t++) {
            List<Long> rows = new ArrayList<>();
            for (int i = 0; i < tasks.length; i++) {
                if (tasks[i] == t) {
                    rows.add((long) i);
                }
            }
            if (rows.isEmpty()) {
                continue;
            }
            NDArray index = f.getManager().create(rows.stream().mapToLong(Long::longValue).toArray());
            NDArray mine = rows.size() == tasks.length ? f : f.get(index);
            out.put(names.get(t), apply(heads.get(names.get(t)), mine));
        }
        return out;
    }

    private static NDArray apply(Head h, NDArray features) {
        return Linear.linear(features, h.weight(), h.bias()).singletonOrThrow();
    }

}
