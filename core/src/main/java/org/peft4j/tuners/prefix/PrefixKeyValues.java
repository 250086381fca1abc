package org.peft4j.tuners.prefix;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import org.peft4j.nn.Hook;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.Initializers;
import org.peft4j.nn.KeyValueHook;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One block's prefixes, the math of prefix tuning: keys and values {@code P_K, P_V [L, d]} prepended
 * to the attention's own (after the projections, split into heads like them), so every query also
 * attends to L learned tokens. Direct prefixes are parameters ({@code prefix_key}, {@code prefix_value});
 * re-parameterised ones are slices of the shared {@link PrefixEncoder}'s output.
 */
public final class PrefixKeyValues implements KeyValueHook {

    private final int length;
    private final int dim;
    private final PrefixEncoder encoder;
    private final int slot;
    private final Parameter keys;
    private final Parameter values;

    PrefixKeyValues(int dim, PrefixConfig config, PrefixEncoder encoder, int slot) {
        this.length = config.numVirtualTokens();
        this.dim = dim;
        this.encoder = encoder;
        this.slot = slot;
        if (encoder == null) {
            Shape shape = new Shape(length, dim);
            keys = Hook.parameter("prefix_key", shape, Initializers.normal((float) config.initStd()));
            values = Hook.parameter("prefix_value", shape, Initializers.normal((float) config.initStd()));
        } else {
            keys = null;
            values = null;
        }
    }

    @Override
    public Map<String, Parameter> parameters() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        if (keys != null) {
            m.put("prefix_key", keys);
            m.put("prefix_value", values);
        }
        return m;
    }

    @Override
    public NDList prefixes(NDArray h, ForwardContext ctx) {
        long b = h.getShape().get(0);
        NDList kv = keys != null ? new NDList(keys.getArray(), values.getArray()) : encoder.prefixes(slot);
        // Like every intermediate of a forward pass, these are freed by the caller's NDScope (DJL-NOTES).
        return new NDList(kv.get(0).expandDims(0).broadcast(b, length, dim), kv.get(1).expandDims(0).broadcast(b, length, dim));
    }

    /** The prefixes themselves, computed when they come from the encoder. */
    @Override
    public Map<String, NDArray> stateToSave() {
        if (keys != null) {
            return KeyValueHook.super.stateToSave();
        }
        NDList kv = encoder.prefixes(slot);
        Map<String, NDArray> m = new LinkedHashMap<>();
        m.put("prefix_key", kv.get(0));
        m.put("prefix_value", kv.get(1));
        return m;
    }
}
