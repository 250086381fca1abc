package org.peft4j.data.suite;

import java.util.List;

/** One benchmark task: its name (as in {@code --data suite:NAME}), group, what it asks, and its class names. */
public record SuiteTask(String name, TaskGroup group, String description, List<String> classes) {
    public SuiteTask {
        classes = List.copyOf(classes);
    }
}
