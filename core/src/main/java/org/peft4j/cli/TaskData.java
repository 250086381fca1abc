package org.peft4j.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code TASK=SPEC,TASK=SPEC,...}: one data spec per task (eval-multi, AdaMerging); {@code NAME=VALUE} pairs in general (serve). */
public final class TaskData {

    private TaskData() {}

    static Map<String, String> parse(String spec) {
        return pairs("--data", "TASK=SPEC", "task", java.util.Arrays.asList(spec.split(",", -1)));
    }

    /**
     * {@code NAME=VALUE} entries of {@code option} (written as {@code form} in errors), each name once,
     * in order; {@code noun} names a name in the error for a repeat.
     */
    public static Map<String, String> pairs(String option, String form, String noun, List<String> parts) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String part : parts) {
            int eq = part.indexOf('=');
            if (eq <= 0 || eq == part.length() - 1) {
                throw new UsageException(option + ": expected " + form + ", got '" + part + "'");
            }
            String name = part.substring(0, eq).strip();
            if (out.put(name, part.substring(eq + 1).strip()) != null) {
                throw new UsageException(option + ": " + noun + " '" + name + "' is given twice");
            }
        }
        return out;
    }
}
