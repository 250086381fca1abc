package org.peft4j.cli;

import java.util.LinkedHashMap;
import java.util.Map;

/** {@code TASK=SPEC,TASK=SPEC,...}: one data spec per task (eval-multi, AdaMerging). */
final class TaskData {

    private TaskData() {}

    static Map<String, String> parse(String spec) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String part : spec.split(",", -1)) {
            int eq = part.indexOf('=');
            if (eq <= 0 || eq == part.length() - 1) {
                throw new UsageException("--data: expected TASK=SPEC, got '" + part + "'");
            }
            String task = part.substring(0, eq).strip();
            if (out.put(task, part.substring(eq + 1).strip()) != null) {
                throw new UsageException("--data: task '" + task + "' is given twice");
            }
        }
        return out;
    }
}
