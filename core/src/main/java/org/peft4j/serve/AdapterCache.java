package org.peft4j.serve;

import org.peft4j.peft.AdapterLabels;
import org.peft4j.peft.PeftModel;
import org.peft4j.tuners.TunerConfig;
import org.peft4j.tuners.lora.LoraConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The adapters a server holds in its one base model. Pinned adapters (given at start, or loaded by
 * {@code POST /v1/adapters}) stay until deleted; any other adapter folder directly inside
 * {@code --adapter-dir} is loaded by name when a request asks for it, into a least-recently-used
 * cache bounded by {@code --adapter-cache-mb} (S-LoRA's and LoRAX's scheme). Loading, unloading and
 * eviction run under the model's lock, which the batcher also holds for a whole batch, so a batch's
 * adapters cannot be evicted under it; the checks an HTTP thread makes before queueing a request
 * ({@link #servable}, {@link #labels}) do not wait for that lock, so requests keep queueing while a
 * batch runs.
 */
final class AdapterCache {

    private static final Logger LOG = LoggerFactory.getLogger(AdapterCache.class);
    /** Adapter names: one path segment, no leading dot (so never '.' or '..'). */
    private static final String NAME = "[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}";

    private final PeftModel peft;
    private final Path root;
    private final long budgetBytes;
    private final List<String> baseLabels;
    private final ServerMetrics metrics;
    private final Set<String> pinned = new LinkedHashSet<>();
    /** On-demand adapters and their sizes, least recently used first. */
    private final LinkedHashMap<String, Long> cached = new LinkedHashMap<>(16, 0.75f, true);
    /** Head class names by adapter (absent: the base's), and the loaded names: read by HTTP threads without the lock. */
    private final Map<String, List<String>> labels = new java.util.concurrent.ConcurrentHashMap<>();
    private final Set<String> loaded = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * {@code adapterDir}: the only folder adapters load from at run time (null: none);
     * {@code baseLabels}: the base head's classes, which every adapter's head must match in number
     * (null for a model without a head, SAM).
     */
    AdapterCache(PeftModel peft, Path adapterDir, long budgetBytes, List<String> baseLabels, ServerMetrics metrics)
            throws IOException {
        this.peft = peft;
        this.root = adapterDir == null ? null : adapterDir.toRealPath();
        this.budgetBytes = budgetBytes;
        this.baseLabels = baseLabels;
        this.metrics = metrics;
    }

    /** Names of one path segment; those starting with two underscores are kept for internal row groups (the base). */
    static boolean validName(String name) {
        return name != null && name.matches(NAME) && !name.startsWith("__");
    }

    /** Marks an adapter the caller loaded before serving as pinned, with its head's class names (null: the base's). */
    void pinLoaded(String name, List<String> headLabels) {
        synchronized (peft) {
            pinned.add(name);
            loaded.add(name);
            if (headLabels != null) {
                labels.put(name, headLabels);
            }
        }
    }

    /** {@code POST /v1/adapters}: loads the folder at {@code relative} inside {@code --adapter-dir}, pinned. */
    void loadPinned(String name, String relative) {
        if (root == null) {
            throw new ApiError(400, "loading adapters at run time needs --adapter-dir");
        }
        if (!validName(name)) {
            throw new ApiError(400, "adapter names are 1-64 letters, digits, '.', '_' or '-', not starting with '.' or '__'");
        }
        pin(name, confined(relative));
    }

    /** Loads {@code dir} as adapter {@code name}, pinned (the command line's {@code --adapter NAME=DIR}, or a confined path). */
    void pin(String name, Path dir) {
        synchronized (peft) {
            if (peft.adapterNames().contains(name)) {
                throw new ApiError(409, "adapter '" + name + "' is already loaded");
            }
            load(name, dir);
            pinned.add(name);
        }
    }

    /** {@code DELETE /v1/adapters/NAME}: unloads a pinned or cached adapter (a cached one may load again). */
    void delete(String name) {
        synchronized (peft) {
            if (!peft.adapterNames().contains(name)) {
                throw new ApiError(404, "no adapter '" + name + "' is loaded");
            }
            loaded.remove(name);
            peft.deleteAdapter(name);
            pinned.remove(name);
            cached.remove(name);
            labels.remove(name);
        }
    }

    /** Whether a request for {@code name} can be served: loaded, or an adapter folder of that name in {@code --adapter-dir}. */
    boolean servable(String name) {
        return loaded.contains(name) || folderFor(name) != null;
    }

    /**
     * Makes a batch's adapters resident ({@code rowAdapters}: one per row, null for the base): loads
     * the missing ones and then evicts the least recently used others while over the budget. Returns
     * the adapters that could not be served, with why; the rest of the batch goes on.
     */
    Map<String, ApiError> acquire(List<String> rowAdapters) {
        Map<String, ApiError> failed = new HashMap<>();
        synchronized (peft) {
            Set<String> needed = new LinkedHashSet<>();
            for (String name : rowAdapters) {
                if (name == null || failed.containsKey(name)) {
                    continue;
                }
                needed.add(name);
                if (peft.adapterNames().contains(name)) {
                    cached.get(name); // touches its place in the LRU order
                    metrics.cacheHit();
                    continue;
                }
                Path dir = folderFor(name);
                if (dir == null) { // deleted since the request was queued
                    failed.put(name, new ApiError(404, "no adapter '" + name + "'"));
                    continue;
                }
                try {
                    load(name, dir);
                    cached.put(name, peft.adapterBytes(name));
                    metrics.cacheLoad();
                } catch (ApiError e) {
                    failed.put(name, e);
                }
            }
            evictDownToBudget(needed);
            metrics.cacheBytes(cachedBytes());
        }
        return failed;
    }

    /** Evicts the least recently used cached adapters, except {@code keep}, until the cache fits its budget. */
    private void evictDownToBudget(Set<String> keep) {
        long bytes = cachedBytes();
        for (Iterator<Map.Entry<String, Long>> it = cached.entrySet().iterator(); it.hasNext() && bytes > budgetBytes; ) {
            Map.Entry<String, Long> e = it.next();
            if (keep.contains(e.getKey())) {
                continue;
            }
            loaded.remove(e.getKey());
            peft.deleteAdapter(e.getKey());
            labels.remove(e.getKey());
            bytes -= e.getValue();
            it.remove();
            metrics.cacheEviction();
        }
        if (bytes > budgetBytes) { // one batch's adapters alone exceed it: they stay for this batch, then go
            LOG.warn("this batch's adapters hold {} MB, over --adapter-cache-mb {}", bytes >> 20, budgetBytes >> 20);
        }
    }

    private long cachedBytes() {
        return cached.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Head class names of adapter {@code name} (the base's when it has no head of its own). */
    List<String> labels(String name) {
        List<String> l = name == null ? null : labels.get(name);
        return l != null ? l : baseLabels;
    }

    /** Loaded adapters, and those {@code --adapter-dir} could load on demand. */
    Map<String, Object> listing() {
        synchronized (peft) {
            List<String> available = new ArrayList<>();
            if (root != null) {
                try (Stream<Path> s = Files.list(root)) {
                    s.filter(p -> validName(p.getFileName().toString()) && folderFor(p.getFileName().toString()) != null)
                            .map(p -> p.getFileName().toString()).filter(n -> !peft.adapterNames().contains(n)).sorted()
                            .forEach(available::add);
                } catch (IOException e) {
                    LOG.warn("cannot list --adapter-dir {}: {}", root, e.getMessage());
                }
            }
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("adapters", new ArrayList<>(peft.adapterNames()));
            out.put("pinned", new ArrayList<>(pinned));
            out.put("cached", new ArrayList<>(cached.keySet()));
            out.put("available", available);
            out.put("cache_bytes", cachedBytes());
            out.put("cache_budget_bytes", budgetBytes);
            return out;
        }
    }

    /** The folder {@code --adapter-dir/NAME} when it holds an adapter config, else null. */
    private Path folderFor(String name) {
        if (root == null || !validName(name)) {
            return null;
        }
        Path dir = root.resolve(name);
        try {
            return Files.isRegularFile(dir.resolve(PeftModel.CONFIG_FILE)) && dir.toRealPath().startsWith(root) ? dir : null;
        } catch (IOException e) {
            return null;
        }
    }

    /** {@code relative} resolved inside {@code --adapter-dir}: no '..' out of it, no link leading out. */
    private Path confined(String relative) {
        Path dir = root.resolve(relative).normalize();
        if (!dir.startsWith(root) || !Files.isDirectory(dir)) {
            throw new ApiError(400, "path '" + relative + "' is not an adapter folder inside --adapter-dir");
        }
        try {
            if (!dir.toRealPath().startsWith(root)) {
                throw new ApiError(400, "path '" + relative + "' leads out of --adapter-dir through a link");
            }
        } catch (IOException e) {
            throw new ApiError(400, "path '" + relative + "': " + e.getMessage());
        }
        return dir;
    }

    /**
     * Loads {@code dir} as adapter {@code name}, all or nothing, leaving the active adapters as they
     * were. Refused before the model is touched: a head of another size, and adapters that train base
     * parameters in place (LoRA's bias "all"/"lora_only": loading one would change every other
     * adapter's base).
     */
    private void load(String name, Path dir) {
        try {
            List<String> headLabels = AdapterLabels.read(dir);
            if (baseLabels != null && headLabels != null && headLabels.size() != baseLabels.size()) {
                throw new ApiError(400, "adapter '" + name + "' has a " + headLabels.size() + "-way head; this base serves "
                        + baseLabels.size() + "-way heads");
            }
            List<String> active = peft.activeAdapters();
            peft.load(dir, name, AdapterCache::sharesTheBase);
            peft.setActiveAdapters(active.toArray(String[]::new));
            if (headLabels != null) {
                labels.put(name, headLabels);
            }
            loaded.add(name);
            LOG.info("adapter '{}' loaded from {} ({} KB)", name, dir, peft.adapterBytes(name) >> 10);
        } catch (IOException | IllegalArgumentException | IllegalStateException e) {
            throw new ApiError(400, "adapter '" + name + "' did not load: " + e.getMessage());
        }
    }

    private static void sharesTheBase(TunerConfig config) {
        if (config instanceof LoraConfig l && l.bias() != LoraConfig.Bias.NONE) {
            throw new IllegalArgumentException("bias '" + l.bias().json + "' trains the base model's biases in place; "
                    + "a served adapter must leave the shared base as it is");
        }
    }
}
