package org.peft4j.nn;

import java.util.HashMap;
import java.util.Map;

/**
 * What one forward pass carries besides its input: whether it trains (dropout, expert masks), and
 * values that hooks deep inside a model read without every module passing them on by name — the
 * pooled image feature a routed LoRA mixes into its bottleneck, per-example adapter choices in a
 * mixed batch, a recorder for gate values. Immutable: {@link #with} returns a new context.
 */
public final class ForwardContext {

    /** A typed name for a context value. */
    public record Key<T>(String name, Class<T> type) {}

    public static final ForwardContext TRAINING = new ForwardContext(true, Map.of());
    public static final ForwardContext INFERENCE = new ForwardContext(false, Map.of());

    private final boolean training;
    private final Map<Key<?>, Object> values;

    private ForwardContext(boolean training, Map<Key<?>, Object> values) {
        this.training = training;
        this.values = values;
    }

    public static ForwardContext of(boolean training) {
        return training ? TRAINING : INFERENCE;
    }

    public boolean training() {
        return training;
    }

    /** The value under {@code key}, or null when this pass has none. */
    public <T> T get(Key<T> key) {
        return key.type().cast(values.get(key));
    }

    /** This context plus {@code key = value}. */
    public <T> ForwardContext with(Key<T> key, T value) {
        Map<Key<?>, Object> copy = new HashMap<>(values);
        copy.put(key, key.type().cast(value));
        return new ForwardContext(training, Map.copyOf(copy));
    }
}
