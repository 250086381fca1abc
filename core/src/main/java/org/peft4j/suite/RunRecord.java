package org.peft4j.suite;

import com.fasterxml.jackson.databind.JsonNode;
import org.peft4j.io.AtomicFiles;
import org.peft4j.io.Json;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One finished training run of the suite. A tuning run ({@code tuning}) trained on train and its
 * {@code accuracy} is on val; a seed run trained on train + val and its {@code accuracy} is on test.
 * Each is saved as its own JSON file, which is what makes a suite resumable.
 *
 * @param method the method's label (its spec, e.g. {@code lora:rank=4})
 */
public record RunRecord(String task, String method, boolean tuning, double learningRate, long seed, double accuracy,
                        long trainableParams, long allParams, double seconds, double imagesPerSecond) {

    public double trainablePercent() {
        return allParams == 0 ? 0 : 100.0 * trainableParams / allParams;
    }

    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("task", task);
        m.put("method", method);
        m.put("kind", tuning ? "tuning" : "seed");
        m.put("learning_rate", learningRate);
        m.put("seed", seed);
        m.put(tuning ? "val_accuracy" : "test_accuracy", accuracy);
        m.put("trainable_params", trainableParams);
        m.put("all_params", allParams);
        m.put("seconds", seconds);
        m.put("images_per_s", imagesPerSecond);
        return m;
    }

    public static RunRecord fromJson(JsonNode n) {
        boolean tuning = n.get("kind").asText().equals("tuning");
        return new RunRecord(n.get("task").asText(), n.get("method").asText(), tuning,
                n.get("learning_rate").asDouble(), n.get("seed").asLong(),
                n.get(tuning ? "val_accuracy" : "test_accuracy").asDouble(), n.get("trainable_params").asLong(),
                n.get("all_params").asLong(), n.get("seconds").asDouble(), n.get("images_per_s").asDouble());
    }

    public void write(Path file) throws IOException {
        AtomicFiles.writeString(file, Json.toPythonStyle(toJson()) + "\n");
    }

    public static RunRecord read(Path file) throws IOException {
        try {
            return fromJson(Json.readFile(file));
        } catch (RuntimeException e) {
            throw new IOException(file + ": not a suite run record (" + e.getMessage() + ")", e);
        }
    }
}
