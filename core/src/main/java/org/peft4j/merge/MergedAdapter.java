package org.peft4j.merge;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import com.fasterxml.jackson.databind.JsonNode;
import org.peft4j.io.AtomicFiles;
import org.peft4j.io.DType;
import org.peft4j.io.Json;
import org.peft4j.io.SafetensorsReader;
import org.peft4j.io.SafetensorsWriter;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.Module;
import org.peft4j.peft.AdapterLabels;
import org.peft4j.tuners.AdapterMismatchException;
import org.peft4j.tuners.AdapterModel;
import org.peft4j.tuners.ConfigJson;
import org.peft4j.tuners.TargetModules;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A merged multi-task adapter folder. Its {@code adapter_config.json} + {@code adapter_model.safetensors}
 * are an ordinary PEFT LoRA adapter (loadable by PEFT when the inputs were); beside them:
 * <ul>
 * <li>{@code merge_info.json}: how it was made, and its tasks in order;</li>
 * <li>{@code heads/TASK/}: each input's own modules_to_save tensors ({@code head.safetensors}, PEFT's
 *     keys) and {@code labels.json}. PEFT refuses to merge adapters that each carry a classifier; here
 *     they become the multi-task heads;</li>
 * <li>for EMR-merging, {@code emr_modulators.safetensors}: per layer the dense unified ΔW
 *     ({@code PATH.unified}, F32) and one mask per task ({@code PATH.mask.TASK}, U8), and the tasks'
 *     rescalers ({@code rescalers}, F32, in task order). The LoRA in the folder is then the rank-r
 *     factorisation of the unified ΔW (task-agnostic); a task is evaluated with its exact modulated ΔW.</li>
 * </ul>
 */
public final class MergedAdapter {

    public static final String INFO_FILE = "merge_info.json";
    public static final String HEADS_DIR = "heads";
    public static final String HEAD_FILE = "head.safetensors";
    public static final String EMR_FILE = "emr_modulators.safetensors";
    public static final String FORMAT = "peft4j-merge/1";

    /** One task of a merged adapter: its name, the adapter it came from, its weight, whether it has a head. */
    public record Task(String name, String source, double weight, boolean hasHead) {}

    private final Path dir;
    private final JsonNode info;
    private final List<Task> tasks;

    private MergedAdapter(Path dir, JsonNode info, List<Task> tasks) {
        this.dir = dir;
        this.info = info;
        this.tasks = tasks;
    }

    // ---- writing ----

    /**
     * Writes the merge of {@code taskNames} (adapter folders {@code sources}, merged with {@code weights}) into {@code out}, atomically: the folder appears
     * complete or not at all. {@code settings} (the options as given) go into merge_info.json.
     */
    public static void write(Path out, LoraMerger.Result result, List<String> taskNames,
                             List<Path> sources, float[] weights, Map<String, Object> settings) throws IOException {
        AtomicFiles.replaceDirectory(out, tmp -> {
            SafetensorsWriter lora = new SafetensorsWriter();
            result.tensors().forEach((k, v) -> lora.add(AdapterModel.PREFIX + k, v));
            lora.write(tmp.resolve(AdapterModel.WEIGHTS_FILE));
            AtomicFiles.writeString(tmp.resolve(AdapterModel.CONFIG_FILE), Json.toPythonStyle(result.config().toJson()));
            List<Map<String, Object>> tasks = new ArrayList<>();
            for (int i = 0; i < taskNames.size(); i++) {
                String task = taskNames.get(i);
                boolean head = copyHead(sources.get(i), tmp.resolve(HEADS_DIR).resolve(task));
                Map<String, Object> t = new LinkedHashMap<>();
                t.put("name", task);
                t.put("adapter", sources.get(i).toAbsolutePath().normalize().toString());
                t.put("weight", (double) weights[i]);
                t.put("head", head ? HEADS_DIR + "/" + task : null);
                tasks.add(t);
            }
            if (result.emr() != null) {
                writeEmr(tmp.resolve(EMR_FILE), result.emr(), taskNames);
            }
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("format", FORMAT);
            info.putAll(settings);
            info.putAll(result.info());
            info.put("emr", result.emr() != null ? EMR_FILE : null);
            info.put("tasks", tasks);
            AtomicFiles.writeString(tmp.resolve(INFO_FILE), Json.toPythonStyle(info) + "\n");
        });
    }

    /** Copies the adapter's modules_to_save tensors (its head) and labels; false when it has none. */
    private static boolean copyHead(Path adapterDir, Path headDir) throws IOException {
        Map<String, float[]> tensors = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        readAdapterHead(adapterDir, tensors, shapes);
        if (tensors.isEmpty()) {
            return false;
        }
        SafetensorsWriter head = new SafetensorsWriter();
        tensors.forEach((path, v) -> head.add(AdapterModel.PREFIX + path, v, shapes.get(path)));
        Files.createDirectories(headDir);
        head.write(headDir.resolve(HEAD_FILE));
        List<String> labels = AdapterLabels.read(adapterDir);
        if (labels != null) {
            AdapterLabels.write(headDir, labels);
        }
        return true;
    }

    /**
     * An adapter folder's own head: the tensors of its modules_to_save, by model parameter path
     * ({@code classifier.weight}), with their shapes. Empty when it saves no modules.
     */
    public static void readAdapterHead(Path adapterDir, Map<String, float[]> tensors, Map<String, long[]> shapes)
            throws IOException {
        JsonNode config = Json.readFile(adapterDir.resolve(AdapterModel.CONFIG_FILE));
        List<String> toSave = ConfigJson.stringsOrNull(config, "modules_to_save");
        if (toSave == null || toSave.isEmpty()) {
            return;
        }
        try (SafetensorsReader reader = SafetensorsReader.open(adapterDir.resolve(AdapterModel.WEIGHTS_FILE))) {
            for (String key : reader.names()) {
                String path = key.startsWith(AdapterModel.PREFIX) ? key.substring(AdapterModel.PREFIX.length()) : key;
                String module = path.contains(".") ? path.substring(0, path.lastIndexOf('.')) : "";
                if (TargetModules.matchesName(toSave, module)) {
                    tensors.put(path, reader.readFloats(key));
                    shapes.put(path, reader.info(key).shape());
                }
            }
        }
    }

    private static void writeEmr(Path file, LoraMerger.EmrModulators emr, List<String> tasks) throws IOException {
        SafetensorsWriter w = new SafetensorsWriter();
        emr.unified().forEach((path, u) -> w.add(path + ".unified", u));
        emr.masks().forEach((path, masks) -> {
            for (int i = 0; i < tasks.size(); i++) {
                NDArray mask = masks.get(i);
                w.add(path + ".mask." + tasks.get(i), DType.U8, mask.getShape().getShape(), mask.toByteArray());
            }
        });
        w.add("rescalers", emr.rescalers(), emr.rescalers().length);
        w.write(file);
    }

    // ---- reading ----

    /** Whether {@code dir} holds a merged adapter (its merge_info.json). */
    public static boolean isMerged(Path dir) {
        return Files.isRegularFile(dir.resolve(INFO_FILE));
    }

    public static MergedAdapter read(Path dir) throws IOException {
        Path file = dir.resolve(INFO_FILE);
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + ": not found (is " + dir + " a folder written by merge-adapters?)");
        }
        JsonNode info = Json.readFile(file);
        if (!FORMAT.equals(info.path("format").asText())) {
            throw new IOException(file + ": format '" + info.path("format").asText() + "', expected " + FORMAT);
        }
        List<Task> tasks = new ArrayList<>();
        for (JsonNode t : info.path("tasks")) {
            String name = t.path("name").asText();
            if (name.isEmpty() || name.contains("/") || name.contains("..")) {
                throw new IOException(file + ": bad task name '" + name + "'");
            }
            tasks.add(new Task(name, t.path("adapter").asText(), t.path("weight").asDouble(1.0),
                    t.hasNonNull("head")));
        }
        if (tasks.isEmpty()) {
            throw new IOException(file + ": lists no tasks");
        }
        return new MergedAdapter(dir, info, tasks);
    }

    public Path dir() {
        return dir;
    }

    public List<Task> tasks() {
        return tasks;
    }

    public List<String> taskNames() {
        return tasks.stream().map(Task::name).toList();
    }

    public String method() {
        return info.path("method").asText();
    }

    public boolean isEmr() {
        return info.hasNonNull("emr");
    }

    public Task task(String name) {
        for (Task t : tasks) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException(dir + ": no task '" + name + "'; its tasks are " + taskNames());
    }

    /** The labels of {@code task}'s head, or null when it has none (it then uses the base model's head). */
    public List<String> labels(String task) throws IOException {
        Task t = task(task);
        return t.hasHead() ? AdapterLabels.read(dir.resolve(HEADS_DIR).resolve(task)) : null;
    }

    /**
     * The head tensors of {@code task} by model parameter path ({@code classifier.weight}), or an
     * empty map when the task uses the base head.
     */
    public Map<String, float[]> headTensors(String task) throws IOException {
        Map<String, float[]> out = new LinkedHashMap<>();
        if (!task(task).hasHead()) {
            return out;
        }
        Path file = dir.resolve(HEADS_DIR).resolve(task).resolve(HEAD_FILE);
        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            for (String key : reader.names()) {
                String path = key.startsWith(AdapterModel.PREFIX) ? key.substring(AdapterModel.PREFIX.length()) : key;
                out.put(path, reader.readFloats(key));
            }
        }
        return out;
    }

    /**
     * EMR: adds task {@code task}'s exact delta {@code λ · M ⊙ τ_uni} to the weights of {@code model}
     * (a fresh base model, not carrying the folder's LoRA); undone by {@code sign = -1}.
     */
    public void applyEmrTask(String task, Module model, int sign) throws IOException {
        if (!isEmr()) {
            throw new IllegalStateException(dir + " is not an EMR merge");
        }
        int index = taskNames().indexOf(task(task).name());
        Map<String, LinearLayer> layers = model.modulesOfType(LinearLayer.class);
        Path file = dir.resolve(EMR_FILE);
        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            float rescaler = reader.readFloats("rescalers")[index];
            for (String key : reader.names()) {
                if (!key.endsWith(".unified")) {
                    continue;
                }
                String path = key.substring(0, key.length() - ".unified".length());
                LinearLayer layer = layers.get(path);
                if (layer == null) {
                    throw new AdapterMismatchException(file + ": layer '" + path + "' is not in the model");
                }
                NDArray w = layer.weight().getArray();
                float[] unified = reader.readFloats(key);
                long[] mask = reader.readLongs(path + ".mask." + task);
                if (unified.length != w.size() || mask.length != w.size()) {
                    throw new AdapterMismatchException(file + ": '" + path + "' has " + unified.length
                            + " values, the model's weight has shape " + w.getShape());
                }
                for (int i = 0; i < unified.length; i++) {
                    unified[i] = mask[i] != 0 ? sign * rescaler * unified[i] : 0f;
                }
                try (NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    w.set(w.add(w.getManager().create(unified, w.getShape())).toFloatArray());
                }
            }
        }
    }

    /** merge_info.json as read. */
    public JsonNode info() {
        return info;
    }
}
