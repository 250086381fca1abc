package org.peft4j.nn;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The named hooks of all adapters at one hook point, which of them are active, and which are
 * merged into the host's weights. A forward pass runs {@link #running()}: the active hooks that
 * are not merged, in activation order (several active adapters add up, as in PEFT).
 */
public final class HookSlot<H extends Hook> {

    private final Map<String, H> hooks = new LinkedHashMap<>();
    private final List<String> active = new ArrayList<>();
    private final List<String> merged = new ArrayList<>();
    private List<H> running = List.of();

    public void add(String adapter, H hook) {
        if (hooks.containsKey(adapter)) {
            throw new IllegalArgumentException("adapter '" + adapter + "' already has a hook here");
        }
        hooks.put(adapter, hook);
    }

    public void remove(String adapter) {
        if (merged.contains(adapter)) {
            throw new IllegalStateException("adapter '" + adapter + "' is merged; unmerge it before deleting");
        }
        hooks.remove(adapter);
        active.remove(adapter);
        refresh();
    }

    public H get(String adapter) {
        return hooks.get(adapter);
    }

    /** The hooks by adapter, in the order they were added. */
    public Map<String, H> hooks() {
        return java.util.Collections.unmodifiableMap(hooks);
    }

    /** Which adapters run here; names without a hook in this slot are ignored. */
    public void setActive(List<String> adapters) {
        active.clear();
        for (String a : adapters) {
            if (hooks.containsKey(a) && !active.contains(a)) {
                active.add(a);
            }
        }
        refresh();
    }

    /** The hooks a forward pass runs: active and not merged. */
    public List<H> running() {
        return running;
    }

    public List<String> merged() {
        return List.copyOf(merged);
    }

    /** Folds adapter {@code name}'s hook into the host's weights (idempotent). */
    public void merge(String adapter, boolean safe) {
        H hook = hooks.get(adapter);
        if (hook == null) {
            throw new IllegalArgumentException("no adapter '" + adapter + "' here; it has " + hooks.keySet());
        }
        if (merged.contains(adapter)) {
            return;
        }
        if (!(hook instanceof MergeableHook m)) {
            throw new IllegalStateException("adapter '" + adapter + "' (" + hook.getClass().getSimpleName()
                    + ") cannot be merged into the weights");
        }
        m.merge(safe);
        merged.add(adapter);
        refresh();
    }

    /** Unmerges {@code adapter}'s hook, which must be the last one merged here (undoing a merge just made). */
    public void unmergeLast(String adapter) {
        if (merged.isEmpty() || !merged.get(merged.size() - 1).equals(adapter)) {
            throw new IllegalStateException("adapter '" + adapter + "' is not the last one merged here: " + merged);
        }
        ((MergeableHook) hooks.get(adapter)).unmerge();
        merged.remove(merged.size() - 1);
        refresh();
    }

    /** Unmerges every merged hook, newest first. */
    public void unmergeAll() {
        for (int i = merged.size() - 1; i >= 0; i--) {
            ((MergeableHook) hooks.get(merged.get(i))).unmerge();
        }
        merged.clear();
        refresh();
    }

    /** Keeps a merged hook's effect in the weights but lets it be removed (merge_and_unload). */
    public void forgetMerged(String adapter) {
        merged.remove(adapter);
        refresh();
    }

    private void refresh() {
        List<H> out = new ArrayList<>();
        for (String a : active) {
            if (!merged.contains(a)) {
                out.add(hooks.get(a));
            }
        }
        running = List.copyOf(out);
    }
}
