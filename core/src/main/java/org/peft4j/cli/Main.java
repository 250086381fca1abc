package org.peft4j.cli;

import org.peft4j.tuners.AdapterMismatchException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code peft4j} command line. */
@Command(name = "peft4j", mixinStandardHelpOptions = true, version = "peft4j 0.1.0",
        description = "Parameter-efficient fine-tuning (LoRA, DoRA, MLAE, adapters, prompts, ...) of vision transformers on the JVM.",
        subcommands = {
            DemoCommand.class,
            TrainCommand.class,
            EvalCommand.class,
            PredictCommand.class,
            ServeCommand.class,
            LoadtestCommand.class,
            GenerateCommand.class,
            SegmentCommand.class,
            MergeCommand.class,
            MergeAdaptersCommand.class,
            EvalMultiCommand.class,
            BenchCommand.class,
            SuiteCommand.class,
            MergeStudyCommand.class,
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
        return execute(new Main(), args);
    }

    /**
     * Runs {@code command} (a picocli command object, e.g. the Spark module's {@code peft4j spark}) with
     * peft4j's conventions: offline, bad input as one {@code peft4j: error:} line with exit code 2.
     */
    public static int execute(Object command, String... args) {
        Offline.enforce();
        CommandLine cli = new CommandLine(command);
        // Usage errors (unknown or misplaced options, options that do not fit): one line, exit code 2.
        cli.setParameterExceptionHandler((e, params) -> {
            CommandLine c = e.getCommandLine();
            c.getErr().println("peft4j: error: " + e.getMessage() + " (see peft4j " + c.getCommandName() + " --help)");
            return CommandLine.ExitCode.USAGE;
        });
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            // Bad input is reported as one line naming what is wrong; the trace only on request.
            commandLine.getErr().println("peft4j: error: " + message(e));
            if (Boolean.getBoolean("peft4j.debug")) {
                e.printStackTrace(commandLine.getErr());
            }
            boolean usage = e instanceof UsageException || e instanceof AdapterMismatchException;
            return usage ? CommandLine.ExitCode.USAGE : 1;
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
