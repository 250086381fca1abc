package org.peft4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import org.peft4j.io.AtomicFiles;
import org.peft4j.io.Json;
import org.peft4j.io.SafetensorsReader;
import org.peft4j.io.SafetensorsWriter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A resumable training state: trainable weights, AdamW moments, the best weights so far and
 * where the run stands. Written as a whole folder swap, so a crash mid-save keeps the last one.
 */
final class Checkpoint {

    private static final String STATE = "trainer_state.json";
    private static final String TENSORS = "state.safetensors";
    private static final String BEST = "best.safetensors";

    record State(int epochsDone, int bestEpoch, double bestValAccuracy) {}

    private Checkpoint() {}

    static boolean exists(Path dir) {
        return Files.isRegularFile(dir.resolve(STATE));
    }

    static void save(Path dir, Map<String, Parameter> params, AdamW optimizer, State state,
                     Map<String, float[]> best) throws IOException {
        AtomicFiles.replaceDirectory(dir, tmp -> {
            SafetensorsWriter w = new SafetensorsWriter();
            params.forEach((k, p) -> w.add("param." + k, p.getArray()));
            optimizer.state().forEach(w::add);
            w.write(tmp.resolve(TENSORS));
            if (best != null) {
                SafetensorsWriter b = new SafetensorsWriter();
                best.forEach((k, v) -> b.add(k, v, params.get(k).getShape().getShape()));
                b.write(tmp.resolve(BEST));
            }
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("epochs_done", state.epochsDone());
            json.put("best_epoch", state.bestEpoch());
            json.put("best_val_accuracy", state.bestValAccuracy());
            json.put("optimizer_step", optimizer.stepCount());
            Files.writeString(tmp.resolve(STATE), Json.toPythonStyle(json));
        });
    }

    /** Restores weights and optimizer; fails, naming the file, if the checkpoint is for other parameters. */
    static State load(Path dir, Map<String, Parameter> params, AdamW optimizer) throws IOException {
        Path stateFile = dir.resolve(STATE);
        com.fasterxml.jackson.databind.JsonNode json = Json.readFile(stateFile);
        // Checked before anything is restored: a damaged state must not resume at a made-up point.
        if (json == null || !json.isObject() || !json.path("epochs_done").canConvertToInt()
                || json.path("epochs_done").asInt() < 0 || !json.path("optimizer_step").canConvertToLong()
                || json.path("optimizer_step").asLong() < 0) {
            throw new IOException(stateFile + ": needs non-negative integers epochs_done and optimizer_step, got "
                    + (json == null ? "nothing" : json.toString()));
        }
        Map<String, float[]> moments = new LinkedHashMap<>();
        try (SafetensorsReader r = SafetensorsReader.open(dir.resolve(TENSORS))) {
            for (Map.Entry<String, Parameter> e : params.entrySet()) {
                String key = "param." + e.getKey();
                if (!r.contains(key)) {
                    throw new IOException(dir.resolve(TENSORS) + ": no '" + key
                            + "': the checkpoint was written for other trainable parameters");
                }
                NDArray target = e.getValue().getArray();
                org.peft4j.nn.Initializers.copyInto(target, r.readFloats(key));
            }
            for (String name : optimizer.state().keySet()) {
                if (!r.contains(name)) {
                    throw new IOException(dir.resolve(TENSORS) + ": no optimizer state '" + name + "'");
                }
                moments.put(name, r.readFloats(name));
            }
        }
        optimizer.restore(moments, json.path("optimizer_step").asLong());
        return new State(json.path("epochs_done").asInt(), json.path("best_epoch").asInt(-1),
                json.path("best_val_accuracy").asDouble(-1));
    }

    static Map<String, float[]> loadBest(Path dir, Map<String, Parameter> params) throws IOException {
        Path file = dir.resolve(BEST);
        if (!Files.isRegularFile(file)) {
            return null;
        }
        Map<String, float[]> out = new LinkedHashMap<>();
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            for (String k : params.keySet()) {
                out.put(k, r.readFloats(k));
            }
        }
        return out;
    }
}
