package org.peft4j.tuners;

import com.fasterxml.jackson.databind.JsonNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/** The adapter_config.json fields every tuner shares, read and written one way. */
public final class ConfigJson {

    private static final Logger LOG = LoggerFactory.getLogger(ConfigJson.class);

    private ConfigJson() {}

    /** Fails unless {@code peft_type} is {@code expected}. */
    public static void requireType(JsonNode o, String expected) {
        String type = o.path("peft_type").asText("");
        if (!type.equals(expected)) {
            throw new IllegalArgumentException("peft_type must be " + expected + ", got '" + type + "'");
        }
    }

    /** Warns about keys outside {@code known}, as PEFT drops unknown keys with a warning. */
    public static void warnUnknown(JsonNode o, Set<String> known) {
        for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!known.contains(k)) {
                LOG.warn("adapter_config.json: unknown key '{}' ignored", k);
            }
        }
    }

    /** PEFT's targeting keys: target_modules (list of names or regex), exclude_modules, layers_to_transform. */
    public static TargetModules targets(JsonNode o) {
        JsonNode t = o.get("target_modules");
        if (t == null || t.isNull()) {
            throw new IllegalArgumentException("target_modules is required");
        }
        JsonNode ex = o.path("exclude_modules");
        List<String> exclude = ex.isArray() ? strings(ex) : null;
        String excludeRegex = ex.isTextual() ? ex.asText() : null;
        List<Integer> layers = layers(o);
        if (t.isTextual() && t.asText().equalsIgnoreCase(TargetModules.ALL_LINEAR)) {
            return new TargetModules(List.of(TargetModules.ALL_LINEAR), null, exclude, excludeRegex, layers);
        }
        return t.isTextual()
                ? new TargetModules(null, t.asText(), exclude, excludeRegex, layers)
                : new TargetModules(strings(t), null, exclude, excludeRegex, layers);
    }

    /** layers_to_transform: an int, a list of ints, or absent (null: every layer). */
    public static List<Integer> layers(JsonNode o) {
        JsonNode lt = o.get("layers_to_transform");
        if (lt == null || lt.isNull()) {
            return null;
        }
        List<Integer> layers = new ArrayList<>();
        if (lt.isInt()) {
            layers.add(lt.asInt());
        } else if (lt.isArray()) {
            for (JsonNode n : lt) {
                if (!n.canConvertToInt()) {
                    throw new IllegalArgumentException("layers_to_transform must hold integers, got " + lt);
                }
                layers.add(n.asInt());
            }
        } else {
            throw new IllegalArgumentException("layers_to_transform must be an integer or a list, got " + lt);
        }
        return layers;
    }

    /** A list of strings (a single string counts as a one-element list); null when absent. */
    public static List<String> stringsOrNull(JsonNode o, String key) {
        JsonNode n = o.get(key);
        return n == null || n.isNull() ? null : strings(n);
    }

    public static List<String> strings(JsonNode n) {
        List<String> out = new ArrayList<>();
        if (n.isTextual()) {
            out.add(n.asText());
        } else {
            n.forEach(x -> out.add(x.asText()));
        }
        return out;
    }

    /** Writes the targeting keys as PEFT does: a regex as a string, names as a sorted list. */
    public static void putTargets(Map<String, Object> m, TargetModules t) {
        m.put("exclude_modules", t.excludeRegex() != null ? t.excludeRegex() : t.exclude().isEmpty() ? null : t.exclude());
        m.put("layers_to_transform", t.layersToTransform());
        m.put("target_modules", t.regex() != null ? t.regex()
                : t.isAllLinear() ? TargetModules.ALL_LINEAR // PEFT's wildcard is a string, not a module name
                : new ArrayList<>(new TreeSet<>(t.names())));
    }

    /** The fields of PEFT's base config that every adapter_config.json has, for a config of our own type. */
    public static Map<String, Object> base(String peftType, List<String> modulesToSave) {
        Map<String, Object> m = new TreeMap<>();
        m.put("base_model_name_or_path", null);
        m.put("inference_mode", true);
        m.put("modules_to_save", modulesToSave.isEmpty() ? null : modulesToSave);
        m.put("peft_type", peftType);
        m.put("revision", null);
        m.put("task_type", null);
        return m;
    }

    /** Writes a whole number as an integer (PEFT's JSON has {@code "lora_alpha": 16}, not 16.0). */
    public static Object number(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? (Object) (long) v : v;
    }
}
