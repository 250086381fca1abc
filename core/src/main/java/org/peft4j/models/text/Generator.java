package org.peft4j.models.text;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.peft4j.nn.ForwardContext;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Text generation with a causal {@link TextModel}: greedy decoding of a batch, and beam search of
 * one sequence. With the key/value cache each new token costs one row of attention; without it
 * (for checking and benchmarking) the whole sequence is recomputed every step.
 *
 * <p>A prefix of embeddings that are not tokens (the VL model's visual token) may come first. The
 * forward context is made per batch size, so that a routed tuner sees a visual feature for every
 * row, also when beam search multiplies the rows.
 */
public final class Generator {

    private Generator() {}

    /** Generated ids (prompt excluded) and, for beam search, the sequence's length-normalised log-probability. */
    public record Output(long[] ids, double score) {}

    /**
     * Greedy decoding (ties to the lowest id) of {@code prompts} (B rows of equal length) after an
     * optional prefix {@code [B, P, d]}; a row stops at {@code eos} (kept in its output; -1: never).
     */
    public static List<long[]> greedy(TextModel model, NDArray prefix, long[][] prompts, int maxNew, int eos, boolean useCache,
                                      IntFunction<ForwardContext> contextForBatch, NDManager manager) {
        return greedy(model, prefix, prompts, maxNew, eos, useCache, contextForBatch, manager, new long[0]);
    }

    /**
     * {@link #greedy} that never emits the ids in {@code suppress} (padding, unknown-word and start
     * tokens that a caption must not contain, as transformers' {@code suppress_tokens}).
     */
    public static List<long[]> greedy(TextModel model, NDArray prefix, long[][] prompts, int maxNew, int eos, boolean useCache,
                                      IntFunction<ForwardContext> contextForBatch, NDManager manager, long[] suppress) {
        int b = prompts.length;
        int n = prompts[0].length;
        checkLength(model, prefix, n, maxNew);
        List<List<Long>> out = new ArrayList<>();
        for (int i = 0; i < b; i++) {
            out.add(new ArrayList<>());
        }
        boolean[] done = new boolean[b];
        ForwardContext ctx = contextForBatch.apply(b);
        long[][] sequences = prompts.clone();
        try (KvCache cache = useCache ? new KvCache(model.config().numLayers(), manager) : null) {
            long[][] step = prompts;
            for (int t = 0; t < maxNew; t++) {
                long[] next;
                try (NDManager scope = manager.newSubManager()) {
                    boolean first = t == 0 || !useCache;
                    NDArray ids = scope.create(flatten(first ? sequences : step), new Shape(b, first ? sequences[0].length : 1));
                    NDArray x = model.embedTokens(ids);
                    if (first && prefix != null) {
                        x = NDArrays.concat(new NDList(prefix, x), 1);
                    }
                    NDArray hidden = model.encode(x, null, cache, ctx);
                    long len = hidden.getShape().get(1);
                    NDArray last = model.logits(hidden.get(":, " + (len - 1) + ":" + len + ", :")).reshape(b, -1);
                    next = suppress.length == 0 ? last.argMax(1).toType(DataType.INT64, false).toLongArray()
                            : argMax(last.toFloatArray(), b, suppress);
                }
                step = new long[b][1];
                boolean all = true;
                for (int i = 0; i < b; i++) {
                    long id = done[i] ? Math.max(eos, 0) : next[i];
                    step[i][0] = id;
                    if (!done[i]) {
                        out.get(i).add(id);
                        done[i] = id == eos;
                    }
                    all &= done[i];
                    sequences[i] = append(sequences[i], id);
                }
                if (all) {
                    break;
                }
            }
        }
        return out.stream().map(l -> l.stream().mapToLong(Long::longValue).toArray()).toList();
    }

    /**
     * Beam search over one prompt with {@code beams} hypotheses: each step keeps the best
     * {@code beams} continuations by summed log-probability; a hypothesis that emits {@code eos} is
     * finished. The result is the best finished or surviving one by log-probability per generated
     * token (length penalty 1, as transformers' default), so short captions are not favoured.
     */
    public static Output beam(TextModel model, NDArray prefix, long[] prompt, int maxNew, int beams, int eos,
                              IntFunction<ForwardContext> contextForBatch, NDManager manager) {
        return beam(model, prefix, prompt, maxNew, beams, eos, contextForBatch, manager, new long[0]);
    }

    /** {@link #beam} that never emits the ids in {@code suppress}. */
    public static Output beam(TextModel model, NDArray prefix, long[] prompt, int maxNew, int beams, int eos,
                              IntFunction<ForwardContext> contextForBatch, NDManager manager, long[] suppress) {
        if (beams < 1) {
            throw new IllegalArgumentException("beams must be at least 1, got " + beams);
        }
        checkLength(model, prefix, prompt.length, maxNew);
        record Hyp(long[] ids, double logProb) {
            double normalised() {
                return logProb / Math.max(1, ids.length);
            }
        }
        List<Hyp> alive = List.of(new Hyp(new long[0], 0));
        List<Hyp> finished = new ArrayList<>();
        try (KvCache cache = new KvCache(model.config().numLayers(), manager)) {
            for (int t = 0; t < maxNew && !alive.isEmpty(); t++) {
                int k = alive.size();
                float[] logProbs;
                int vocab;
                try (NDManager scope = manager.newSubManager()) {
                    NDArray x;
                    if (t == 0) {
                        x = model.embedTokens(scope.create(prompt, new Shape(1, prompt.length)));
                        if (prefix != null) {
                            x = NDArrays.concat(new NDList(prefix, x), 1);
                        }
                    } else {
                        long[] last = alive.stream().mapToLong(h -> h.ids[h.ids.length - 1]).toArray();
                        x = model.embedTokens(scope.create(last, new Shape(k, 1)));
                    }
                    NDArray hidden = model.encode(x, null, cache, contextForBatch.apply((int) x.getShape().get(0)));
                    long len = hidden.getShape().get(1);
                    NDArray lp = model.logits(hidden.get(":, " + (len - 1) + ":" + len + ", :")).reshape(x.getShape().get(0), -1).logSoftmax(1);
                    vocab = (int) lp.getShape().get(1);
                    logProbs = lp.toFloatArray();
                }
                for (int i = 0; i < k; i++) {
                    for (long v : suppress) {
                        logProbs[(int) (i * vocab + v)] = Float.NEGATIVE_INFINITY;
                    }
                }
                List<long[]> candidates = new ArrayList<>(); // {beam, token}
                List<Double> scores = new ArrayList<>();
                for (int i = 0; i < k; i++) {
                    for (int v = 0; v < vocab; v++) {
                        candidates.add(new long[] {i, v});
                        scores.add(alive.get(i).logProb + logProbs[i * vocab + v]);
                    }
                }
                Integer[] order = new Integer[candidates.size()];
                for (int i = 0; i < order.length; i++) {
                    order[i] = i;
                }
                Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -scores.get(i)).thenComparingInt(i -> i));
                List<Hyp> next = new ArrayList<>();
                List<Long> parents = new ArrayList<>();
                for (int j = 0; j < order.length && next.size() < beams; j++) {
                    if (scores.get(order[j]) == Double.NEGATIVE_INFINITY) {
                        break; // only suppressed tokens are left
                    }
                    long[] c = candidates.get(order[j]);
                    Hyp parent = alive.get((int) c[0]);
                    Hyp h = new Hyp(append(parent.ids, c[1]), scores.get(order[j]));
                    if (c[1] == eos) {
                        finished.add(h);
                    } else {
                        next.add(h);
                        parents.add(c[0]);
                    }
                }
                if (finished.size() >= beams) {
                    break;
                }
                alive = next;
                if (!alive.isEmpty()) {
                    try (NDManager scope = manager.newSubManager()) {
                        long[] index = parents.stream().mapToLong(Long::longValue).toArray();
                        // The first step ran on one row: every beam starts from it.
                        cache.reorder(scope.create(index));
                    }
                }
            }
        }
        List<Hyp> all = new ArrayList<>(finished);
        all.addAll(alive);
        Hyp best = all.stream().max(Comparator.comparingDouble(Hyp::normalised)).orElseThrow();
        return new Output(best.ids, best.normalised());
    }

    /** Each row's argmax (ties to the lowest id) over the ids not in {@code suppress}. */
    private static long[] argMax(float[] logits, int rows, long[] suppress) {
        int vocab = logits.length / rows;
        boolean[] banned = new boolean[vocab];
        for (long v : suppress) {
            banned[(int) v] = true;
        }
        long[] out = new long[rows];
        for (int i = 0; i < rows; i++) {
            int best = -1;
            for (int v = 0; v < vocab; v++) {
                if (!banned[v] && (best < 0 || logits[i * vocab + v] > logits[i * vocab + best])) {
                    best = v;
                }
            }
            out[i] = best;
        }
        return out;
    }

    private static void checkLength(TextModel model, NDArray prefix, int promptLength, int maxNew) {
        long p = prefix == null ? 0 : prefix.getShape().get(1);
        int context = model.config().contextLength();
        if (promptLength < 1) {
            throw new IllegalArgumentException("the prompt is empty: generation needs at least one token to start from");
        }
        if (maxNew < 1) {
            throw new IllegalArgumentException("--max-new-tokens must be at least 1, got " + maxNew);
        }
        if (p + promptLength + maxNew > context) {
            throw new IllegalArgumentException("prompt of " + promptLength + " tokens" + (p > 0 ? " after " + p + " prefix token(s)" : "")
                    + " plus " + maxNew + " new tokens exceeds the model's context of " + context);
        }
    }

    private static long[] flatten(long[][] rows) {
        long[] out = new long[rows.length * rows[0].length];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, out, i * rows[0].length, rows[0].length);
        }
        return out;
    }

    private static long[] append(long[] a, long v) {
        long[] out = Arrays.copyOf(a, a.length + 1);
        out[a.length] = v;
        return out;
    }
}
