package org.peft4j.train;

/** Linear warm-up from 0 to the peak, then cosine decay to {@code minLr} (timm/HF "cosine"). */
public record LearningRateSchedule(double peakLr, long warmupSteps, long totalSteps, double minLr) {

    public LearningRateSchedule {
        if (totalSteps <= 0 || warmupSteps < 0 || warmupSteps > totalSteps) {
            throw new IllegalArgumentException("need 0 <= warmup (" + warmupSteps + ") <= total steps (" + totalSteps + ")");
        }
    }

    /** Learning rate for optimizer step {@code step} (0-based). */
    public double at(long step) {
        if (step < warmupSteps) {
            return peakLr * (step + 1) / (double) warmupSteps;
        }
        long decaySteps = Math.max(1, totalSteps - warmupSteps);
        double progress = Math.min(1.0, (step - warmupSteps) / (double) decaySteps);
        return minLr + (peakLr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
    }
}
