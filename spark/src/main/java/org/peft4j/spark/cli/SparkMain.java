package org.peft4j.spark.cli;

import org.peft4j.cli.Main;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code peft4j spark ...}: peft4j's batch jobs on Apache Spark ({@code local[N]} or a cluster through spark-submit). */
@Command(name = "peft4j spark", mixinStandardHelpOptions = true, version = "peft4j-spark 0.1.0",
        description = "Batch inference, suites and data-parallel adapter training on Apache Spark.",
        subcommands = {SparkPredictCommand.class, SparkTrainCommand.class, SparkSuiteCommand.class, CommandLine.HelpCommand.class})
public final class SparkMain implements Runnable {

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the Spark CLI and returns its exit code (tests call this instead of main). */
    public static int run(String... args) {
        return Main.execute(new SparkMain(), args);
    }
}
