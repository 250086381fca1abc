package org.peft4j.cli;

import java.nio.file.Path;

/** Checks that keep a command's output away from its inputs (nothing the user had is written over). */
public final class Outputs {

    private Outputs() {}

    /**
     * Refuses an {@code --out} that is, holds or sits inside {@code input} ({@code what} names it in the
     * message): writing the output must never touch an input.
     */
    public static void requireApart(Path out, Path input, String what) {
        requireApart("--out", out, input, what);
    }

    /** As {@link #requireApart(Path, Path, String)} for a command whose output option is {@code option}. */
    public static void requireApart(String option, Path out, Path input, String what) {
        Path in = input.toAbsolutePath().normalize();
        Path o = out.toAbsolutePath().normalize();
        if (o.startsWith(in) || in.startsWith(o)) {
            throw new UsageException(option + " " + out + " and " + what + " " + in + " overlap; choose another " + option);
        }
    }
}
