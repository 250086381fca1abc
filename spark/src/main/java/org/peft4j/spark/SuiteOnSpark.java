package org.peft4j.spark;

import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.peft4j.cli.Main;
import org.peft4j.suite.SuiteRunner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code peft4j suite} with its runs as Spark tasks: the driver runs the ordinary suite command, whose
 * pending runs ({@link SuiteRunner.Elsewhere}) become one task each (the same command with the hidden
 * {@code --run KEY}); when they are done the driver's command finds every record and writes the report.
 */
public final class SuiteOnSpark {

    private static final Logger LOG = LoggerFactory.getLogger(SuiteOnSpark.class);
    /**
     * Runs of one executor JVM go one at a time: the engine's random generator is one per JVM, and two
     * runs drawing from it at once would not match a run alone (parallelism comes from executors).
     */
    private static final Object ONE_RUN_PER_JVM = new Object();

    private SuiteOnSpark() {}

    /** Runs the suite with {@code suiteArgs} ({@code peft4j suite}'s options); returns its exit code. */
    public static int run(JavaSparkContext jsc, List<String> suiteArgs) throws Exception {
        List<String> base = new ArrayList<>(List.of("suite"));
        base.addAll(suiteArgs);
        List<String> taskArgs = List.copyOf(base);
        return SuiteRunner.withRunsElsewhere(keys -> {
            if (keys.isEmpty()) {
                return;
            }
            LOG.info("{} suite runs as Spark tasks", keys.size());
            jsc.parallelize(keys, keys.size()).foreach(key -> {
                org.peft4j.nn.Threads.gradientsOffOnThisThread();
                TaskContext context = TaskContext.get();
                if (context != null && context.attemptNumber() > 0) {
                    LOG.warn("suite run {}: attempt {} (Spark retried it)", key, context.attemptNumber() + 1);
                }
                List<String> args = new ArrayList<>(taskArgs);
                args.removeIf(a -> a.equals("--no-progress"));
                args.addAll(List.of("--run", key, "--no-progress"));
                synchronized (ONE_RUN_PER_JVM) {
                    int code = Main.run(args.toArray(String[]::new));
                    if (code != 0) {
                        throw new IllegalStateException("suite run " + key + " failed (exit " + code + ")");
                    }
                }
            });
        }, () -> Main.run(base.toArray(String[]::new)));
    }
}
