package org.peft4j.cli;

import org.peft4j.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
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

    /**
     * Claims a command's output folder {@code --out}: a file there is refused; with {@code resume} a
     * folder is kept as it is (its run continues); otherwise it must be new or empty, or {@code overwrite}
     * empties it. Returns whether the folder holds nothing of the user's any more, so that a failed
     * run may delete it rather than leave a partial output behind.
     */
    public static boolean claimFolder(Path out, boolean overwrite, boolean resume) throws IOException {
        if (Files.exists(out, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(out, LinkOption.NOFOLLOW_LINKS)) {
            throw new UsageException("--out " + out + " is a file, not a folder; give a folder to write the run to");
        }
        if (resume) {
            return false;
        }
        if (!AtomicFiles.isFreeOutput(out)) {
            if (!overwrite) {
                throw new UsageException("--out " + out + " exists and is not empty; pass --resume to continue its run "
                        + "or --overwrite to replace it");
            }
            AtomicFiles.deleteRecursively(out);
        }
        return true;
    }

    /**
     * Empties a claimed output folder after a failure, and deletes it unless {@code keepFolder} (the user
     * made it, empty); the failure stays the error reported.
     */
    public static void discard(Path out, boolean keepFolder, Throwable failure) {
        try {
            if (!keepFolder) {
                AtomicFiles.deleteRecursively(out);
            } else if (Files.isDirectory(out)) {
                try (var entries = Files.list(out)) {
                    for (Path p : entries.toList()) {
                        AtomicFiles.deleteRecursively(p);
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            failure.addSuppressed(e);
        }
    }
}
