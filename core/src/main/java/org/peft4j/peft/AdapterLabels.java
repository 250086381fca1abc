package org.peft4j.peft;

import com.fasterxml.jackson.databind.JsonNode;
import org.peft4j.io.AtomicFiles;
import org.peft4j.io.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The class names of an adapter's own head, kept in {@code labels.json} beside the PEFT files.
 * PEFT has no place for them (its users pass id2label again when loading); without them an
 * adapter trained on new classes could not be loaded by name. PEFT ignores the extra file.
 */
public final class AdapterLabels {

    public static final String FILE = "labels.json";

    private AdapterLabels() {}

    public static void write(Path adapterDir, List<String> labels) throws IOException {
        Map<String, String> id2label = new LinkedHashMap<>();
        for (int i = 0; i < labels.size(); i++) {
            id2label.put(Integer.toString(i), labels.get(i));
        }
        AtomicFiles.writeString(adapterDir.resolve(FILE), Json.toPythonStyle(Map.of("id2label", id2label)) + "\n");
    }

    /** The labels saved with the adapter, or null when it has none (e.g. written by PEFT). */
    public static List<String> read(Path adapterDir) throws IOException {
        Path file = adapterDir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            return null;
        }
        JsonNode id2label = Json.readFile(file).path("id2label");
        if (!id2label.isObject() || id2label.size() == 0) {
            throw new IOException(file + ": expected {\"id2label\": {\"0\": name, ...}}");
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < id2label.size(); i++) {
            JsonNode n = id2label.get(Integer.toString(i));
            if (n == null) {
                throw new IOException(file + ": id2label has no entry \"" + i + "\"");
            }
            out.add(n.asText());
        }
        return out;
    }

    /**
     * The head that adapters sharing one base model need (adapter name → folder): the class names of the
     * first adapter that has its own, or null when none has. Heads of different sizes cannot share a
     * base: {@link IllegalArgumentException} naming the adapter.
     */
    public static List<String> sharedHead(Map<String, Path> adapters) throws IOException {
        List<String> head = null;
        for (Map.Entry<String, Path> e : adapters.entrySet()) {
            List<String> labels = read(e.getValue());
            if (head != null && labels != null && labels.size() != head.size()) {
                throw new IllegalArgumentException(e.getKey() + ": a " + labels.size() + "-way head; the others have "
                        + head.size() + " (one base serves heads of one size)");
            }
            head = head == null ? labels : head;
        }
        return head;
    }
}
