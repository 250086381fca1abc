package org.peft4j.peft;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.peft4j.nn.Module;
import org.peft4j.tuners.AdapterModel;
import org.peft4j.tuners.TunerConfig;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import org.peft4j.models.FeatureExtractor;
import org.peft4j.nn.AdapterRows;
import org.peft4j.nn.ForwardContext;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.nio.file.Path;

/**
 * The public entry point, as Hugging Face PEFT's {@code PeftModel}: an {@link AdapterModel} that
 * reads adapter folders of every method peft4j knows ({@link PeftConfigs}).
 */
public final class PeftModel extends AdapterModel {

    public PeftModel(Module base, String headPath, NDManager manager) {
        super(base, headPath, manager);
    }

    /**
     * Reads an adapter folder as adapter {@code name}, whatever its method; all or nothing (see
     * {@link AdapterModel#load}).
     */
    public void load(Path dir, String name) throws IOException {
        load(dir, name, PeftConfigs::fromJson);
    }

    /**
     * As {@link #load(Path, String)}, with {@code check} run on the adapter's config before the model
     * is touched: it refuses by throwing {@link IllegalArgumentException}, reported as a mismatch of
     * the folder's config file.
     */
    public void load(Path dir, String name, java.util.function.Consumer<TunerConfig> check) throws IOException {
        load(dir, name, json -> {
            TunerConfig config = PeftConfigs.fromJson(json);
            check.accept(config);
            return config;
        });
    }

    /**
     * Whether adapter {@code name} can share a mixed batch ({@link #forwardMixed}): a LoRA-family
     * adapter (its update depends on a row's own input alone) whose only module copy is the head.
     */
    public boolean mixable(String name) {
        if (!(config(name) instanceof org.peft4j.tuners.lora.LoraConfig)) {
            return false;
        }
        String head = headPath();
        return savedCopies(name).keySet().stream().allMatch(k -> head != null && k.startsWith(head + "."));
    }

    /**
     * As {@link #load(Path, String)}, leaving out the adapter's modules_to_save (its head), for
     * merging adapters whose heads differ; the heads are read apart.
     */
    public void loadWithoutHeads(Path dir, String name) throws IOException {
        load(dir, name, PeftConfigs::fromJson, true);
    }

    /**
     * As {@link #load(Path, String)}, for a base whose Conv1D weights were transposed to
     * {@code [out, in]} linears when it was loaded (GPT-2, {@code TextCheckpoint}). PEFT's
     * {@code fan_in_fan_out} only says that the checkpoint stores a layer as {@code [in, out]}; its
     * lora_A {@code [r, in]} and lora_B {@code [out, r]} are the same either way, so the flag is
     * accepted and dropped here (elsewhere it is refused: a linear stored {@code [in, out]} would
     * need the merge transposed).
     */
    public void loadOntoTransposedConv1d(Path dir, String name) throws IOException {
        load(dir, name, json -> {
            if (json instanceof ObjectNode o && o.has("fan_in_fan_out")) {
                o.put("fan_in_fan_out", false);
            }
            return PeftConfigs.fromJson(json);
        });
    }

    /**
     * Logits of a batch whose rows run different adapters, each the way it can: with {@code mixed}, the
     * rows of adapters that can share a pass ({@link #mixable}) and the base rows run as one mixed batch
     * ({@link #forwardMixed}) and every other adapter's rows in a pass of their own; without, one pass
     * per adapter (how PEFT users serve several adapters without mixed batches). Row i's logits are
     * its adapter's alone. The active adapters are restored afterwards.
     */
    public NDArray forwardRows(NDArray pixels, List<String> rowAdapters, boolean mixed) {
        final String shared = "__mixed_pass__";
        List<String> passOf = new ArrayList<>();
        for (String a : rowAdapters) {
            boolean base = a == null || a.equals(AdapterRows.BASE);
            if (!base && !adapterNames().contains(a)) {
                throw new IllegalArgumentException("no adapter '" + a + "'; adapters: " + adapterNames());
            }
            passOf.add(mixed && (base || mixable(a)) ? shared : base ? AdapterRows.BASE : a);
        }
        AdapterRows passes = new AdapterRows(passOf);
        List<String> wasActive = activeAdapters();
        try {
            List<NDArray> parts = new ArrayList<>();
            for (Map.Entry<String, long[]> pass : passes.segments().entrySet()) {
                NDArray x = passes.rows(pixels, pass.getValue());
                if (pass.getKey().equals(shared)) {
                    List<String> names = new ArrayList<>();
                    for (long i : pass.getValue()) {
                        names.add(rowAdapters.get((int) i));
                    }
                    parts.add(forwardMixed(x, names));
                } else {
                    if (pass.getKey().equals(AdapterRows.BASE)) {
                        disableAdapters();
                    } else {
                        setActiveAdapters(pass.getKey());
                    }
                    parts.add(forward(x, false));
                }
            }
            return passes.assemble(parts, pixels.getManager());
        } finally {
            setActiveAdapters(wasActive.toArray(String[]::new));
        }
    }

    /**
     * Logits of each image under its adapter ({@code adapters.get(i)}, null for the base), one array per
     * image: the images go through {@code transform} and {@link #forwardRows} as one batch, on a
     * sub-manager of {@code manager} that is freed afterwards.
     */
    public float[][] classify(List<org.peft4j.data.RawImage> images, List<String> adapters, org.peft4j.data.ImageTransform transform,
                              NDManager manager, boolean mixed) {
        int n = images.size();
        int per = transform.floatsPerImage();
        float[] pixels = new float[n * per];
        for (int i = 0; i < n; i++) {
            transform.apply(images.get(i), pixels, i * per);
        }
        float[] logits;
        try (NDManager step = manager.newSubManager()) {
            NDArray x = step.create(pixels, new ai.djl.ndarray.types.Shape(n, transform.channels(), transform.size(), transform.size()));
            logits = forwardRows(x, adapters, mixed).toFloatArray();
        }
        int k = logits.length / n;
        float[][] out = new float[n][];
        for (int i = 0; i < n; i++) {
            out[i] = java.util.Arrays.copyOfRange(logits, i * k, (i + 1) * k);
        }
        return out;
    }

    /**
     * Logits of a mixed batch, as PEFT's {@code forward(..., adapter_names=...)}: row i runs adapter
     * {@code rowAdapters.get(i)} (null or {@link AdapterRows#BASE}: the base model). One backbone pass
     * for every row, each LoRA-family hook on its own rows, then each adapter's head (its
     * modules_to_save copy, else the base head) on its rows' features. The active adapters are
     * restored afterwards.
     */
    public NDArray forwardMixed(NDArray pixels, List<String> rowAdapters) {
        if (!(base() instanceof FeatureExtractor features) || headPath() == null) {
            throw new IllegalArgumentException("mixed-adapter batches need a classifier with a head (a ViT)");
        }
        for (String name : rowAdapters) {
            if (name != null && !name.equals(AdapterRows.BASE)) {
                if (!adapterNames().contains(name)) {
                    throw new IllegalArgumentException("no adapter '" + name + "'; adapters: " + adapterNames());
                }
                if (!mixable(name)) {
                    throw new IllegalArgumentException("adapter '" + name + "' (" + config(name).peftType()
                            + ") cannot share a mixed batch: only LoRA-family adapters whose one module copy is the head");
                }
            }
        }
        if (pixels.getShape().get(0) != rowAdapters.size()) {
            throw new IllegalArgumentException(pixels.getShape().get(0) + " rows but " + rowAdapters.size() + " adapter names");
        }
        AdapterRows rows = new AdapterRows(rowAdapters);
        List<String> wasActive = activeAdapters();
        disableAdapters(); // no block hooks, base head; layer hooks run per row below
        try {
            NDArray f = features.features(pixels, ForwardContext.INFERENCE.with(AdapterRows.KEY, rows));
            Module head = base().namedModules().get(headPath());
            Map<String, Parameter> baseHead = head.params();
            List<NDArray> parts = new ArrayList<>();
            for (Map.Entry<String, long[]> e : rows.segments().entrySet()) {
                Map<String, Parameter> copies = e.getKey().equals(AdapterRows.BASE) ? Map.of() : savedCopies(e.getKey());
                Parameter w = copies.getOrDefault(Module.join(headPath(), "weight"), baseHead.get("weight"));
                Parameter b = copies.getOrDefault(Module.join(headPath(), "bias"), baseHead.get("bias"));
                NDArray fs = rows.rows(f, e.getValue());
                parts.add(Linear.linear(fs, w.getArray(), b == null ? null : b.getArray()).singletonOrThrow());
            }
            return rows.assemble(parts, pixels.getManager());
        } finally {
            setActiveAdapters(wasActive.toArray(String[]::new));
        }
    }
}
