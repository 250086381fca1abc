package org.peft4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A JVM on the tests' class path, for tests that kill a process or cut its network. */
final class ChildJvm {

    private ChildJvm() {}

    /**
     * Starts {@code java jvmFlags… mainAndArgs…}, its output appended to {@code log}; {@code offline}
     * sets DJL's environment flags as ./peft4j does, otherwise they are removed (the CLI must set them).
     */
    static Process start(List<String> jvmFlags, List<String> mainAndArgs, Path log, boolean offline) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmFlags);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path")));
        cmd.addAll(mainAndArgs);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        if (offline) {
            pb.environment().put("DJL_OFFLINE", "true");
            pb.environment().put("OPT_OUT_TRACKING", "true");
        } else {
            pb.environment().remove("DJL_OFFLINE");
            pb.environment().remove("OPT_OUT_TRACKING");
        }
        return pb.start();
    }

    /** The log's text, for a failure message. */
    static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return e.toString();
        }
    }
}
