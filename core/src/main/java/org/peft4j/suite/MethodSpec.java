package org.peft4j.suite;

import org.peft4j.models.vit.VitConfig;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.peft.MethodOptions;
import org.peft4j.peft.Methods;
import org.peft4j.tuners.TunerConfig;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * One method of a suite run as the user wrote it: a method name, optionally followed by options,
 * {@code mlae:rank=4} or {@code lora:rank=4:alpha=8}. The option keys are the method's CLI option
 * names ({@link Methods#options}); list values are joined with {@code +} ({@code lora:target=query+value},
 * {@code vpt-deep:layers=0+1}), except a {@code re:REGEX} target, which is taken whole. The spec
 * string is the run's label, in file names and tables.
 */
public record MethodSpec(String label, String method, MethodOptions options) {

    /** Parses one spec; IllegalArgumentException names the unknown method or option, or the bad value. */
    public static MethodSpec parse(String spec) {
        String[] parts = spec.split(":", -1);
        String method = parts[0];
        if (!Methods.names().contains(method)) {
            throw new IllegalArgumentException("unknown method '" + method + "'" + where(spec, method)
                    + "; methods: " + String.join(", ", Methods.names()));
        }
        Map<String, String> given = new LinkedHashMap<>();
        String last = null;
        for (int i = 1; i < parts.length; i++) {
            int eq = parts[i].indexOf('=');
            if (eq < 0 && last != null && (given.get(last).equals("re") || given.get(last).startsWith("re:"))) {
                given.put(last, given.get(last) + ":" + parts[i]); // re:REGEX, split at its colons
                continue;
            }
            if (eq <= 0) {
                throw new IllegalArgumentException("'" + spec + "': expected KEY=VALUE after '" + method
                        + ":', got '" + parts[i] + "'");
            }
            last = parts[i].substring(0, eq);
            if (!Methods.options(method).contains(last)) {
                Set<String> accepted = Methods.options(method);
                throw new IllegalArgumentException("'" + spec + "': " + method + " takes no option '" + last + "'"
                        + (accepted.isEmpty() ? " (it takes none)" : "; it takes " + String.join(", ", accepted.stream().sorted().toList())));
            }
            if (given.put(last, parts[i].substring(eq + 1)) != null) {
                throw new IllegalArgumentException("'" + spec + "': option '" + last + "' given twice");
            }
        }
        Values v = new Values(spec, given);
        MethodOptions options = new MethodOptions(v.strings("target"), v.get("rank", Integer::valueOf),
                v.get("alpha", Double::valueOf), v.get("dropout", Double::valueOf), v.get("rslora", Values::bool),
                v.strings("qkv-slices"), v.get("init", s -> s), v.get("drop-rate", Double::valueOf),
                v.get("mask", s -> s), v.ints("fixed-experts"), v.get("schedule", s -> s),
                v.get("prompt-len", Integer::valueOf), v.get("prefix-projection", Integer::valueOf),
                v.get("bottleneck", Integer::valueOf), v.get("activation", s -> s),
                v.get("adapter-scale", Double::valueOf), v.strings("feedforward"), v.ints("layers"),
                v.strings("submodules"), v.get("central-gate", Values::bool));
        return new MethodSpec(spec, method, options);
    }

    /** Parses a comma-separated list of specs; a label given twice is refused. */
    public static List<MethodSpec> parseList(String specs) {
        List<MethodSpec> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (String spec : specs.split(",", -1)) {
            String s = spec.strip();
            if (s.isEmpty()) {
                throw new IllegalArgumentException("empty method in '" + specs + "'");
            }
            if (!seen.add(s)) {
                throw new IllegalArgumentException("method '" + s + "' is given twice");
            }
            out.add(parse(s));
        }
        return out;
    }

    /** This method's tuner config for {@code model} (null for head and full). */
    public TunerConfig config(VitForImageClassification model) {
        return Methods.config(method, options, model);
    }

    /**
     * Fails (IllegalArgumentException naming this spec) unless the options fit together and the
     * adapter fits a model of {@code config}'s architecture; checked on an uninitialised model, so
     * nothing is trained or allocated.
     */
    public void check(VitConfig config) {
        VitForImageClassification model = new VitForImageClassification(config);
        try {
            TunerConfig tuner = config(model);
            if (tuner != null) {
                tuner.inject(model, model.headPath());
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + label + "': " + e.getMessage(), e);
        }
    }

    private static String where(String spec, String method) {
        return spec.equals(method) ? "" : " in '" + spec + "'";
    }

    /** The option values of one spec, converted to the types {@link MethodOptions} holds. */
    private record Values(String spec, Map<String, String> given) {

        <T> T get(String key, Function<String, T> parse) {
            String value = given.get(key);
            if (value == null) {
                return null;
            }
            try {
                return parse.apply(value);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("'" + spec + "': bad value '" + value + "' for " + key, e);
            }
        }

        List<String> strings(String key) {
            return get(key, s -> s.startsWith("re:") ? List.of(s) : Arrays.asList(s.split("\\+", -1)));
        }

        List<Integer> ints(String key) {
            return get(key, s -> Arrays.stream(s.split("\\+", -1)).map(Integer::valueOf).toList());
        }

        static Boolean bool(String s) {
            return switch (s) {
                case "true" -> true;
                case "false" -> false;
                default -> throw new IllegalArgumentException("expected true or false");
            };
        }
    }
}
