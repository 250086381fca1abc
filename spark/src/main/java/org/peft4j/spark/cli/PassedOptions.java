package org.peft4j.spark.cli;

import java.util.List;

/** Reading the options a Spark command passes through to the core command it runs ({@code train}, {@code suite}). */
final class PassedOptions {

    private PassedOptions() {}

    /** The value of {@code option} ({@code --name VALUE} or {@code --name=VALUE}), or null when absent. */
    static String value(List<String> args, String option) {
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals(option) && i + 1 < args.size()) {
                return args.get(i + 1);
            }
            if (a.startsWith(option + "=")) {
                return a.substring(option.length() + 1);
            }
        }
        return null;
    }

    /** Whether {@code option} is given at all (a flag, or with a value). */
    static boolean given(List<String> args, String option) {
        return args.stream().anyMatch(a -> a.equals(option) || a.startsWith(option + "="));
    }
}
