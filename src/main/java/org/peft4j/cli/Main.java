package org.peft4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code peft4j} command line. */
@Command(name = "peft4j", mixinStandardHelpOptions = true, version = "peft4j 0.1.0",
        description = "Parameter-efficient fine-tuning (LoRA) of vision transformers on the JVM.",
        subcommands = {
            DemoCommand.class,
            TrainCommand.class,
            EvalCommand.class,
            PredictCommand.class,
            MergeCommand.class,
            BenchCommand.class,
            CommandLine.HelpCommand.class
        })
public final class Main implements Runnable {

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns its exit code (tests call this instead of main). */
    public static int run(String... args) {
        Offline.enforce();
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            // Bad input is reported as one line naming what is wrong; the trace only on request.
            commandLine.getErr().println("peft4j: error: " + message(e));
            if (Boolean.getBoolean("peft4j.debug")) {
                e.printStackTrace(commandLine.getErr());
            }
            return 1;
        });
        return cli.execute(args);
    }

    private static String message(Throwable e) {
        String m = e.getMessage();
        if (m == null || m.isBlank()) {
            return e.getClass().getSimpleName() + (e.getCause() != null ? ": " + message(e.getCause()) : "");
        }
        return m;
    }
}
