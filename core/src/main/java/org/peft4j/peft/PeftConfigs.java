package org.peft4j.peft;

import com.fasterxml.jackson.databind.JsonNode;
import org.peft4j.tuners.TunerConfig;
import org.peft4j.tuners.adapter.AdapterConfig;
import org.peft4j.tuners.bitfit.BitFitConfig;
import org.peft4j.tuners.ia3.Ia3Config;
import org.peft4j.tuners.lora.LoraConfig;
import org.peft4j.tuners.routing.RoutingConfig;
import org.peft4j.tuners.mlae.MlaeConfig;
import org.peft4j.tuners.mopeft.MopeftConfig;
import org.peft4j.tuners.prefix.PrefixConfig;
import org.peft4j.tuners.ssf.SsfConfig;
import org.peft4j.tuners.vpt.VptConfig;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/** Every tuner's adapter_config.json reader, by {@code peft_type}. */
public final class PeftConfigs {

    private static final Map<String, Function<JsonNode, TunerConfig>> READERS = new LinkedHashMap<>();

    static {
        READERS.put("LORA", LoraConfig::fromJson);
        READERS.put(Ia3Config.PEFT_TYPE, Ia3Config::fromJson);
        READERS.put(MlaeConfig.PEFT_TYPE, MlaeConfig::fromJson);
        READERS.put(AdapterConfig.PEFT_TYPE, AdapterConfig::fromJson);
        READERS.put(VptConfig.PEFT_TYPE, VptConfig::fromJson);
        READERS.put(PrefixConfig.PEFT_TYPE, PrefixConfig::fromJson);
        READERS.put(BitFitConfig.PEFT_TYPE, BitFitConfig::fromJson);
        READERS.put(SsfConfig.PEFT_TYPE, SsfConfig::fromJson);
        READERS.put(MopeftConfig.PEFT_TYPE, MopeftConfig::fromJson);
    }

    private PeftConfigs() {}

    public static TunerConfig fromJson(JsonNode o) {
        if (RoutingConfig.describes(o)) {
            return RoutingConfig.fromJson(o); // a LoRA or adapter with a routing, or cross-attention
        }
        String type = o.path("peft_type").asText("");
        Function<JsonNode, TunerConfig> reader = READERS.get(type);
        if (reader == null) {
            throw new IllegalArgumentException("peft_type '" + type + "' is not one peft4j reads; known: " + READERS.keySet());
        }
        return reader.apply(o);
    }
}
