package org.peft4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which adapter each row of a mixed batch uses (PEFT's {@code adapter_names}; null or
 * {@link #BASE} for the base model), carried in the {@link ForwardContext} so that one base forward
 * serves the whole batch and each layer hook runs on its own rows only: the base output of every
 * row, plus adapter a's update of its rows {@code x_a Aᵀ Bᵀ}.
 */
public final class AdapterRows {

    public static final String BASE = "__base__";
    public static final ForwardContext.Key<AdapterRows> KEY = new ForwardContext.Key<>("adapter_rows", AdapterRows.class);

    private final List<String> rows;
    private final Map<String, long[]> segments = new LinkedHashMap<>();
    private final long[] order;
    private final long[] inverse;

    /** {@code rows.get(i)}: row i's adapter, or null / {@link #BASE} for none. */
    public AdapterRows(List<String> rows) {
        if (rows.isEmpty()) {
            throw new IllegalArgumentException("an empty batch");
        }
        this.rows = new ArrayList<>(rows);
        Map<String, List<Integer>> by = new LinkedHashMap<>();
        for (int i = 0; i < rows.size(); i++) {
            by.computeIfAbsent(rows.get(i) == null ? BASE : rows.get(i), k -> new ArrayList<>()).add(i);
        }
        order = new long[rows.size()];
        int k = 0;
        for (Map.Entry<String, List<Integer>> e : by.entrySet()) {
            long[] idx = e.getValue().stream().mapToLong(Integer::longValue).toArray();
            segments.put(e.getKey(), idx);
            for (long i : idx) {
                order[k++] = i;
            }
        }
        inverse = new long[order.length];
        for (int i = 0; i < order.length; i++) {
            inverse[(int) order[i]] = i;
        }
    }

    public int size() {
        return rows.size();
    }

    /** Row indices by adapter name ({@link #BASE} for rows without one), in first-appearance order. */
    public Map<String, long[]> segments() {
        return segments;
    }

    /** Rows of {@code x} (batch on axis 0) of one segment. */
    public NDArray rows(NDArray x, long[] index) {
        if (index.length == rows.size()) {
            return x;
        }
        return x.get(x.getManager().create(index));
    }

    /**
     * The batch put back in row order from per-segment outputs given in {@link #segments()} order:
     * concatenated, then gathered through the inverse permutation.
     */
    public NDArray assemble(List<NDArray> perSegment, NDManager manager) {
        NDArray cat = perSegment.size() == 1 ? perSegment.get(0) : NDArrays.concat(new NDList(perSegment), 0);
        boolean identity = true;
        for (int i = 0; i < order.length; i++) {
            identity &= order[i] == i;
        }
        return identity ? cat : cat.get(manager.create(inverse));
    }

    @Override
    public String toString() {
        return "AdapterRows" + Arrays.toString(rows.toArray());
    }
}
