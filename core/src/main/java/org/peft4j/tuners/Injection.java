package org.peft4j.tuners;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import org.peft4j.nn.Hook;
import org.peft4j.nn.HookSlot;
import org.peft4j.nn.Module;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one adapter adds to a model, as its tuner's injection rule built it: hooks and the slots
 * they go into, parameters shared by several hooks (a prefix re-parameterisation), and base
 * parameters the adapter trains in place (LoRA's {@code bias="all"}). Building it changes nothing;
 * {@link AdapterModel} attaches it.
 */
public final class Injection {

    /** A hook for the slot of the module at {@code path}. */
    public record Placement<H extends Hook>(String path, HookSlot<H> slot, H hook) {
        void attach(String adapter) {
            slot.add(adapter, hook);
        }

        void detach(String adapter) {
            slot.remove(adapter);
        }
    }

    private final List<Placement<?>> placements = new ArrayList<>();
    private final Map<String, Parameter> shared = new LinkedHashMap<>();
    private final Map<String, Parameter> baseTrained = new LinkedHashMap<>();

    public <H extends Hook> Injection place(String path, HookSlot<H> slot, H hook) {
        placements.add(new Placement<>(path, slot, hook));
        return this;
    }

    /** A trainable parameter several hooks use; the file holds what the hooks compute from it, not it. */
    public Injection share(String key, Parameter p) {
        shared.put(key, p);
        return this;
    }

    /** A base parameter the adapter trains in place and saves under {@code key}. */
    public Injection trainBase(String key, Parameter p) {
        baseTrained.put(key, p);
        return this;
    }

    public List<Placement<?>> placements() {
        return List.copyOf(placements);
    }

    public boolean isEmpty() {
        return placements.isEmpty() && shared.isEmpty() && baseTrained.isEmpty();
    }

    /** The parameters the adapter owns (hooks' and shared ones), by key: what it adds to the model's size. */
    public LinkedHashMap<String, Parameter> ownParameters() {
        LinkedHashMap<String, Parameter> out = hookParameters();
        shared.forEach((k, p) -> putUnique(out, k, p));
        return out;
    }

    /** What trains: the adapter's own parameters and the base parameters it trains in place. */
    public LinkedHashMap<String, Parameter> trainableParameters() {
        LinkedHashMap<String, Parameter> out = ownParameters();
        baseTrained.forEach((k, p) -> putUnique(out, k, p));
        return out;
    }

    /** What a saved file fills when loaded, by key: hook parameters, then base parameters trained in place. */
    public LinkedHashMap<String, Parameter> loadTargets() {
        LinkedHashMap<String, Parameter> out = hookParameters();
        baseTrained.forEach((k, p) -> putUnique(out, k, p));
        return out;
    }

    /** What the adapter file holds, by key (module path + the hook's name). */
    public LinkedHashMap<String, NDArray> stateToSave() {
        LinkedHashMap<String, NDArray> out = new LinkedHashMap<>();
        for (Placement<?> pl : placements) {
            pl.hook().stateToSave().forEach((k, v) -> putUnique(out, Module.join(pl.path(), k), v));
        }
        baseTrained.forEach((k, p) -> putUnique(out, k, p.getArray()));
        return out;
    }

    void initialize(NDManager manager) {
        for (Parameter p : shared.values()) {
            p.initialize(manager, DataType.FLOAT32);
        }
        for (Placement<?> pl : placements) {
            pl.hook().initialize(manager);
        }
    }

    private LinkedHashMap<String, Parameter> hookParameters() {
        LinkedHashMap<String, Parameter> out = new LinkedHashMap<>();
        for (Placement<?> pl : placements) {
            pl.hook().parameters().forEach((k, p) -> putUnique(out, Module.join(pl.path(), k), p));
        }
        return out;
    }

    private static <V> void putUnique(Map<String, V> map, String key, V value) {
        if (map.putIfAbsent(key, value) != null) {
            throw new IllegalStateException("two parameters of one adapter share the key '" + key + "'");
        }
    }
}
