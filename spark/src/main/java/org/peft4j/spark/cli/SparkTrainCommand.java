package org.peft4j.spark.cli;

import org.apache.spark.api.java.JavaSparkContext;
import org.peft4j.cli.UsageException;
import org.peft4j.io.Json;
import org.peft4j.spark.DataParallelTraining;
import org.peft4j.spark.Sessions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Unmatched;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train an adapter with synchronous data parallelism in a Spark barrier stage: every task holds a replica, "
                + "computes the gradients of its share of each global batch, and the replicas sum them through the barrier's "
                + "all-gather before the same optimizer step. Task 0 writes the adapter and metrics to --out.",
                "Every other option is peft4j train's (classification): see peft4j train --help."})
final class SparkTrainCommand implements Callable<Integer> {

    @Option(names = "--master", defaultValue = "local[*]", description = "Spark master (default ${DEFAULT-VALUE}).")
    String master;

    @Option(names = "--workers", defaultValue = "2", description = "Replicas (barrier tasks; the master needs as many slots). Default ${DEFAULT-VALUE}.")
    int workers;

    @Unmatched
    List<String> trainArgs = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        if (workers < 1 || workers > 1024) {
            throw new UsageException("--workers must be 1..1024, got " + workers);
        }
        String out = PassedOptions.value(trainArgs, "--out");
        if (out == null) {
            throw new UsageException("--out is required (task 0 writes the adapter there)");
        }
        String task = PassedOptions.value(trainArgs, "--task");
        if (task != null && !task.equals("classification")) {
            throw new UsageException("--task " + task + ": spark train runs classification (segmentation and vision-language "
                    + "training run on one machine with peft4j train)");
        }
        if (PassedOptions.given(trainArgs, "--resume")) {
            throw new UsageException("--resume is not supported by spark train: rerun without it");
        }
        if (!org.peft4j.io.AtomicFiles.isFreeOutput(Path.of(out))) {
            throw new UsageException("--out " + out + " exists and is not empty; choose a new folder");
        }
        try (Sessions.Lease lease = Sessions.lease(master, "peft4j train")) {
            JavaSparkContext jsc = JavaSparkContext.fromSparkContext(lease.session().sparkContext());
            DataParallelTraining.run(jsc, workers, trainArgs);
        }
        System.out.println(Json.MAPPER.writeValueAsString(Map.of("workers", workers, "out", out)));
        return 0;
    }
}
