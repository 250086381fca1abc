package org.peft4j.train;

/**
 * Hyper-parameters of one training run. {@code warmupRatio} is the fraction of optimizer steps
 * spent warming up; {@code maxGradNorm} ≤ 0 disables clipping; {@code gradientCheckpointing} keeps only
 * each block's input and recomputes the block during the backward pass (models that are
 * {@link org.peft4j.nn.Staged}).
 */
public record TrainConfig(
        int epochs,
        int batchSize,
        double learningRate,
        double weightDecay,
        double warmupRatio,
        int gradientAccumulation,
        double maxGradNorm,
        long seed,
        int logEvery,
        boolean keepBest,
        boolean gradientCheckpointing) {

    public TrainConfig(int epochs, int batchSize, double learningRate, double weightDecay, double warmupRatio,
                       int gradientAccumulation, double maxGradNorm, long seed, int logEvery, boolean keepBest) {
        this(epochs, batchSize, learningRate, weightDecay, warmupRatio, gradientAccumulation, maxGradNorm, seed, logEvery,
                keepBest, false);
    }

    public TrainConfig {
        if (epochs <= 0 || batchSize <= 0 || gradientAccumulation <= 0 || logEvery <= 0) {
            throw new IllegalArgumentException("epochs, batch size, accumulation and log interval must be positive");
        }
        if (!(learningRate > 0)) {
            throw new IllegalArgumentException("learning rate must be positive, got " + learningRate);
        }
        if (warmupRatio < 0 || warmupRatio >= 1) {
            throw new IllegalArgumentException("warm-up ratio must be in [0, 1), got " + warmupRatio);
        }
    }

    public static TrainConfig defaults() {
        return new TrainConfig(3, 32, 1e-3, 0.01, 0.1, 1, 1.0, 42, 20, true);
    }

    public TrainConfig withEpochs(int e) {
        return new TrainConfig(e, batchSize, learningRate, weightDecay, warmupRatio, gradientAccumulation,
                maxGradNorm, seed, logEvery, keepBest, gradientCheckpointing);
    }

    public TrainConfig withGradientCheckpointing(boolean on) {
        return new TrainConfig(epochs, batchSize, learningRate, weightDecay, warmupRatio, gradientAccumulation,
                maxGradNorm, seed, logEvery, keepBest, on);
    }
}
