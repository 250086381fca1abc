package org.peft4j.peft;

import com.fasterxml.jackson.databind.JsonNode;
import org.peft4j.tuners.TunerConfig;
import org.peft4j.tuners.lora.LoraConfig;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/** Every tuner's adapter_config.json reader, by {@code peft_type}. */
public final class PeftConfigs {

    private static final Map<String, Function<JsonNode, TunerConfig>> READERS = new LinkedHashMap<>();

    static {
        READERS.put("LORA", LoraConfig::fromJson);
    }

    private PeftConfigs() {}

    public static TunerConfig fromJson(JsonNode o) {
        String type = o.path("peft_type").asText("");
        Function<JsonNode, TunerConfig> reader = READERS.get(type);
        if (reader == null) {
            throw new IllegalArgumentException("peft_type '" + type + "' is not one peft4j reads; known: " + READERS.keySet());
        }
        return reader.apply(o);
    }
}
