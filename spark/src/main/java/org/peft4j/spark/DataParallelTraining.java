package org.peft4j.spark;

import org.apache.spark.BarrierTaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.peft4j.cli.Main;
import org.peft4j.train.DataParallel;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.IntStream;

/**
 * {@code peft4j train} as synchronous data parallelism in a Spark barrier stage: each of {@code workers}
 * tasks runs the ordinary training command as one replica ({@link DataParallel}, exchanged by
 * {@link SparkReplica}); task 0 writes to the given {@code --out}, the others to a scratch folder they delete.
 */
public final class DataParallelTraining {

    private DataParallelTraining() {}

    /** Runs the replicas; throws when any replica fails (Spark then stops the others). */
    public static void run(JavaSparkContext jsc, int workers, List<String> trainArgs) {
        List<String> args = List.copyOf(trainArgs);
        List<Integer> ranks = IntStream.range(0, workers).boxed().toList();
        scala.Function1<scala.collection.Iterator<Integer>, scala.collection.Iterator<Integer>> replicaTask =
                (scala.Function1<scala.collection.Iterator<Integer>, scala.collection.Iterator<Integer>> & java.io.Serializable) it -> {
            org.peft4j.nn.Threads.gradientsOffOnThisThread();
            BarrierTaskContext context = BarrierTaskContext.get();
            SparkReplica replica = new SparkReplica(context, workers);
            List<String> mine = new ArrayList<>();
            mine.add("train");
            Path scratch = null;
            if (replica.rank() > 0) {
                context.barrier(); // rank 0 builds its model first (see DataParallel#ready)
                try {
                    scratch = Files.createTempDirectory("peft4j-replica-" + replica.rank() + "-");
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                mine.addAll(withOut(args, scratch.resolve("out").toString()));
                mine.add("--no-progress");
            } else {
                mine.addAll(args);
            }
            try {
                int code;
                try {
                    code = DataParallel.run(replica, () -> Main.run(mine.toArray(String[]::new)));
                } catch (Exception e) {
                    throw new IllegalStateException("replica " + replica.rank() + ": " + e.getMessage(), e);
                }
                if (code != 0) {
                    throw new IllegalStateException("replica " + replica.rank() + ": peft4j train exited with " + code);
                }
                return scala.jdk.javaapi.CollectionConverters.asScala(Collections.singletonList(code).iterator());
            } finally {
                if (scratch != null) {
                    try {
                        org.peft4j.io.AtomicFiles.deleteRecursively(scratch);
                    } catch (java.io.IOException e) {
                        // a scratch folder left in /tmp is harmless
                    }
                }
            }
        };
        Object collected = jsc.parallelize(ranks, workers).rdd().barrier()
                .mapPartitions(replicaTask, false, scala.reflect.ClassTag$.MODULE$.apply(Integer.class)).collect();
        int finished = java.lang.reflect.Array.getLength(collected);
        if (finished != workers) {
            throw new IllegalStateException(finished + " of " + workers + " replicas finished");
        }
    }

    private static List<String> withOut(List<String> args, String out) {
        List<String> copy = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--out") && i + 1 < args.size()) {
                copy.add("--out");
                copy.add(out);
                i++;
            } else if (a.startsWith("--out=")) {
                copy.add("--out=" + out);
            } else if (!a.equals("--no-progress")) {
                copy.add(a);
            }
        }
        return copy;
    }
}
