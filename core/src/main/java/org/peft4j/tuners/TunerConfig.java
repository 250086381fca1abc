package org.peft4j.tuners;

import org.peft4j.nn.Module;

import java.util.List;
import java.util.Map;

/**
 * One tuner's settings (a record in the tuner's package, with a JSON round trip) and the way into
 * its injection rule. The shared machinery ({@link AdapterModel}) knows tuners only through this.
 */
public interface TunerConfig {

    /** {@code peft_type} in adapter_config.json: PEFT's name where PEFT has the method and format, ours otherwise. */
    String peftType();

    /** Modules trained in full and saved with the adapter, typically a new classification head. */
    List<String> modulesToSave();

    /** The config as adapter_config.json holds it (written with sorted keys). */
    Map<String, Object> toJson();

    /**
     * This adapter's hooks for {@code model}, built without changing the model; throws
     * IllegalArgumentException naming what does not fit (no target matched, a bad shape).
     */
    Injection inject(Module model, String headPath);

    /**
     * The config saved beside the tensors, when the file form differs from the training form: PiSSA
     * saves a plain LoRA of twice the rank, a re-parameterised prefix saves the prefixes themselves.
     */
    default TunerConfig savedConfig() {
        return this;
    }
}
