package org.peft4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Times a benchmark step: warm-up steps until the step time is steady, then {@code steps} timed
 * ones, each with the minor page faults it caused (fresh native memory: on a VM a fault costs
 * microseconds, so a step that keeps getting new memory shows it here before it shows in time).
 *
 * @param seconds each timed step
 * @param pageFaults minor page faults during each timed step (-1 where /proc is not there)
 * @param warmupSteps how many untimed steps ran first
 * @param rssCurve resident memory (MB) after timed steps spread over the run: {step, MB} pairs (a soak's curve)
 */
record StepTimes(double[] seconds, long[] pageFaults, int warmupSteps, long[][] rssCurve) {

    /** Warm-up stops once a step is within this fraction of the one before it. */
    private static final double STEADY = 0.10;
    private static final int MAX_WARMUP = 10;

    /**
     * At least {@code minWarmup} warm-up steps (the first steps pay for the JIT, libtorch's
     * one-time kernel choices and memory the process has not touched yet), more while the step time
     * still changes by more than 10%, at most 10; then {@code steps} timed steps.
     */
    static StepTimes run(Runnable step, int minWarmup, int steps) {
        int warmup = 0;
        double previous = Double.NaN;
        while (warmup < MAX_WARMUP) {
            long t0 = System.nanoTime();
            step.run();
            double t = (System.nanoTime() - t0) / 1e9;
            warmup++;
            boolean steady = Math.abs(t - previous) <= STEADY * previous;
            previous = t;
            if (warmup >= minWarmup && steady) {
                break;
            }
        }
        double[] seconds = new double[steps];
        long[] faults = new long[steps];
        int every = Math.max(1, steps / 20);
        java.util.List<long[]> curve = new java.util.ArrayList<>();
        for (int i = 0; i < steps; i++) {
            long f0 = minorFaults();
            long t0 = System.nanoTime();
            step.run();
            seconds[i] = (System.nanoTime() - t0) / 1e9;
            long f1 = minorFaults();
            faults[i] = f0 < 0 || f1 < 0 ? -1 : f1 - f0;
            if ((i + 1) % every == 0 || i == steps - 1) {
                curve.add(new long[] {i + 1, residentMb()});
            }
        }
        return new StepTimes(seconds, faults, warmup, curve.toArray(long[][]::new));
    }

    double median() {
        return sorted()[seconds.length / 2];
    }

    double min() {
        return sorted()[0];
    }

    double p90() {
        double[] s = sorted();
        return s[Math.min(s.length - 1, (int) Math.ceil(0.9 * s.length) - 1)];
    }

    /** The timing fields of a bench's JSON line: median, min, p90, warm-up steps, page faults, each step. */
    Map<String, Object> json() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("median_s", median());
        out.put("min_s", min());
        out.put("p90_s", p90());
        out.put("warmup_steps", warmupSteps);
        long[] f = pageFaults.clone();
        Arrays.sort(f);
        out.put("page_faults_per_step", f[f.length / 2]);
        out.put("rss_mb_by_step", rssCurve);
        out.put("step_times_s", seconds);
        return out;
    }

    private double[] sorted() {
        double[] s = seconds.clone();
        Arrays.sort(s);
        return s;
    }

    /** This process's resident memory now (VmRSS, MB), or -1. */
    private static long residentMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return -1;
    }

    /** This process's minor page faults so far (field 10 of /proc/self/stat), or -1. */
    private static long minorFaults() {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            // The command name (field 2) may hold spaces; fields are counted after its closing parenthesis.
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[7]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
