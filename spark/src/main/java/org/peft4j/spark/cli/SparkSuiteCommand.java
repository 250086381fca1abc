package org.peft4j.spark.cli;

import org.apache.spark.api.java.JavaSparkContext;
import org.peft4j.cli.UsageException;
import org.peft4j.spark.Sessions;
import org.peft4j.spark.SuiteOnSpark;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Unmatched;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "suite", mixinStandardHelpOptions = true,
        description = {"The classification benchmark suite with each (task, method, learning rate or seed) run as a Spark task; "
                + "the report is the one peft4j suite writes, runs already in --out are skipped (resumable), and a failed run is "
                + "retried by Spark (local[N,F] retries F-1 times on one machine).",
                "Every other option is peft4j suite's: see peft4j suite --help. --out must be a folder every executor sees."})
final class SparkSuiteCommand implements Callable<Integer> {

    @Option(names = "--master", defaultValue = "local[*]", description = "Spark master (default ${DEFAULT-VALUE}).")
    String master;

    @Unmatched
    List<String> suiteArgs = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        String task = PassedOptions.value(suiteArgs, "--task");
        if (task != null && !task.equals("classification")) {
            throw new UsageException("--task " + task + ": spark suite runs the classification suite (segmentation and "
                    + "vision-language suites run on one machine with peft4j suite)");
        }
        if (PassedOptions.given(suiteArgs, "--run")) {
            throw new UsageException("--run is internal to spark suite");
        }
        try (Sessions.Lease lease = Sessions.lease(master, "peft4j suite")) {
            JavaSparkContext jsc = JavaSparkContext.fromSparkContext(lease.session().sparkContext());
            return SuiteOnSpark.run(jsc, suiteArgs);
        }
    }
}
