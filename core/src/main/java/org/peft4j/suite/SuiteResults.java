package org.peft4j.suite;

import org.peft4j.data.suite.SuiteTask;
import org.peft4j.data.suite.TaskGroup;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * A suite's results gathered from its run records: per method and task the chosen learning rate and
 * the test accuracy over seeds; per method the group means and, as VTAB reports it, the mean of the
 * group means. Built by a pure function ({@link #aggregate}), so the numbers are testable by hand.
 *
 * @param settings what the runs depend on (settings.json), passed through to the report
 * @param backbone the backbone's record (name, source accuracy, linear probe), passed through
 */
public record SuiteResults(Map<String, Object> settings, Map<String, Object> backbone, List<SuiteTask> tasks,
                           List<MethodResult> methods) {

    /** One method on one task: the tuning runs (none without tuning), the rate they chose, and the seed runs. */
    public record TaskResult(SuiteTask task, double learningRate, List<RunRecord> tuning, List<RunRecord> seeds) {

        public List<Double> accuracies() {
            return seeds.stream().map(RunRecord::accuracy).toList();
        }

        public double mean() {
            return SuiteResults.mean(accuracies());
        }

        public double std() {
            return SuiteResults.std(accuracies());
        }

        /** Trainable parameters (the head's size follows the task's class count). */
        public long trainableParams() {
            return seeds.get(0).trainableParams();
        }

        public double trainablePercent() {
            return seeds.get(0).trainablePercent();
        }

        public double secondsPerRun() {
            return SuiteResults.mean(seeds.stream().map(RunRecord::seconds).toList());
        }

        public double imagesPerSecond() {
            return SuiteResults.mean(seeds.stream().map(RunRecord::imagesPerSecond).toList());
        }
    }

    /** One method (by label) on every task. */
    public record MethodResult(String label, List<TaskResult> tasks) {

        /** Mean over the group's tasks of the per-task mean accuracy, for each group with a task here. */
        public Map<TaskGroup, Double> groupMeans() {
            Map<TaskGroup, Double> out = new EnumMap<>(TaskGroup.class);
            for (TaskGroup g : TaskGroup.values()) {
                List<Double> means = tasks.stream().filter(t -> t.task().group() == g).map(TaskResult::mean).toList();
                if (!means.isEmpty()) {
                    out.put(g, SuiteResults.mean(means));
                }
            }
            return out;
        }

        /** VTAB's summary: the mean of the group means (so each group weighs the same whatever its task count). */
        public double overall() {
            return SuiteResults.mean(List.copyOf(groupMeans().values()));
        }

        public double meanTrainableParams() {
            return SuiteResults.mean(tasks.stream().map(t -> (double) t.trainableParams()).toList());
        }

        public double meanTrainablePercent() {
            return SuiteResults.mean(tasks.stream().map(TaskResult::trainablePercent).toList());
        }

        /** Mean seconds of one final (seed) run. */
        public double secondsPerRun() {
            return SuiteResults.mean(tasks.stream().flatMap(t -> t.seeds().stream()).map(RunRecord::seconds).toList());
        }

        /** Seconds of every run of this method, tuning included. */
        public double totalSeconds() {
            return tasks.stream().flatMap(t -> java.util.stream.Stream.concat(t.tuning().stream(), t.seeds().stream()))
                    .mapToDouble(RunRecord::seconds).sum();
        }
    }

    /**
     * Gathers {@code runs} into results for {@code methods} (labels) × {@code tasks}, in that order;
     * every pair needs at least one seed run. Runs of other tasks or methods are ignored.
     */
    public static SuiteResults aggregate(Map<String, Object> settings, Map<String, Object> backbone,
                                         List<SuiteTask> tasks, List<String> methods, List<RunRecord> runs) {
        List<MethodResult> out = new ArrayList<>();
        for (String method : methods) {
            List<TaskResult> perTask = new ArrayList<>();
            for (SuiteTask task : tasks) {
                List<RunRecord> mine = runs.stream()
                        .filter(r -> r.method().equals(method) && r.task().equals(task.name())).toList();
                List<RunRecord> tuning = mine.stream().filter(RunRecord::tuning)
                        .sorted(Comparator.comparingDouble(RunRecord::learningRate)).toList();
                List<RunRecord> seeds = mine.stream().filter(r -> !r.tuning())
                        .sorted(Comparator.comparingLong(RunRecord::seed)).toList();
                if (seeds.isEmpty()) {
                    throw new IllegalArgumentException("no test run of " + method + " on " + task.name());
                }
                double lr = tuning.isEmpty() ? seeds.get(0).learningRate() : chooseLearningRate(tuning);
                perTask.add(new TaskResult(task, lr, tuning, seeds));
            }
            out.add(new MethodResult(method, perTask));
        }
        return new SuiteResults(settings, backbone, List.copyOf(tasks), out);
    }

    /** The rate of the tuning run with the best val accuracy; on a tie, the smaller rate. */
    public static double chooseLearningRate(List<RunRecord> tuning) {
        return tuning.stream()
                .min(Comparator.comparingDouble(RunRecord::accuracy).reversed()
                        .thenComparingDouble(RunRecord::learningRate))
                .orElseThrow(() -> new IllegalArgumentException("no tuning runs"))
                .learningRate();
    }

    /** A fraction as a percentage with one decimal ({@code 0.4412} → {@code 44.1}). */
    public static String percent(double v) {
        return String.format(java.util.Locale.ROOT, "%.1f", 100 * v);
    }

    /** A table cell of fractions over seeds, in percent: the value, {@code mean ± std}, or a dash for none. */
    public static String percentCell(List<Double> v) {
        if (v.isEmpty()) {
            return "–";
        }
        return v.size() == 1 ? percent(v.get(0)) : percent(mean(v)) + " ± " + percent(std(v));
    }

    /** Mean; NaN for none. */
    public static double mean(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }

    /** Sample standard deviation (n - 1); 0 for a single value. */
    public static double std(List<Double> values) {
        int n = values.size();
        if (n < 2) {
            return 0;
        }
        double m = mean(values);
        double ss = values.stream().mapToDouble(v -> (v - m) * (v - m)).sum();
        return Math.sqrt(ss / (n - 1));
    }
}
