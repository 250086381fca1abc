package org.peft4j.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import org.peft4j.io.Json;
import org.peft4j.models.text.TextCheckpoint;
import org.peft4j.models.text.TextConfig;
import org.peft4j.models.text.TextModel;
import org.peft4j.nn.Module;
import org.peft4j.peft.PeftModel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Resolves {@code --model DIR} and {@code --adapter DIR} into a text model (GPT-2, BERT, RoBERTa)
 * and reads token ids given on the command line. Everything wrong with them is the user's to fix,
 * so it is a {@link UsageException} naming the file or the option.
 */
final class TextModels {

    private static final Set<String> TYPES = Set.of("bert", "roberta", "gpt2");

    /** The folder, its config, and the model (with the adapter inside its layers, when one was given). */
    record Loaded(Path dir, TextConfig config, TextModel model) {}

    private TextModels() {}

    /**
     * Whether {@code model} names a text model folder: its config.json has model_type bert, roberta
     * or gpt2. Anything unreadable is "no", so that image commands keep reporting their own errors.
     */
    static boolean isTextModel(String model) {
        Path config = Path.of(model).resolve("config.json");
        if (!Files.isRegularFile(config)) {
            return false;
        }
        try {
            JsonNode root = Json.readFile(config);
            return root != null && TYPES.contains(root.path("model_type").asText(""));
        } catch (IOException e) {
            return false;
        }
    }

    /** config.json of a text model folder, checked before any weight is read; errors start with {@code context}. */
    static TextConfig config(String model, String context) {
        Path dir = Path.of(model);
        if (!Files.isDirectory(dir)) {
            throw new UsageException(context + ": " + model + " is not a folder (a text model folder holds config.json "
                    + "with model_type bert, roberta or gpt2 + model.safetensors)");
        }
        try {
            return TextConfig.fromDirectory(dir);
        } catch (IOException e) {
            throw new UsageException(context + ": " + e.getMessage());
        }
    }

    /** The folder's weights, and the adapter (PEFT format) loaded onto them when {@code adapter} is not null. */
    static Loaded load(String model, TextConfig config, Path adapter, NDManager manager) throws IOException {
        Path dir = Path.of(model);
        if (adapter != null && !Files.isDirectory(adapter)) {
            throw new UsageException("--adapter " + adapter + ": adapter folder not found");
        }
        Module module;
        try {
            module = TextCheckpoint.load(dir, manager);
        } catch (IOException | RuntimeException e) {
            // A broken weights file surfaces as whatever the reader trips over; name the file if the message does not.
            String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw new UsageException(m.contains(dir.toString()) ? m : dir.resolve(TextCheckpoint.WEIGHTS_FILE) + ": " + m);
        }
        if (adapter != null) {
            PeftModel peft = new PeftModel(module, headPath(config), manager);
            if (config.type() == TextConfig.Type.GPT2) {
                peft.loadOntoTransposedConv1d(adapter, PeftModel.DEFAULT_ADAPTER);
            } else {
                peft.load(adapter, PeftModel.DEFAULT_ADAPTER);
            }
        }
        return new Loaded(dir, config, (TextModel) module);
    }

    /**
     * What all-linear leaves out, as PEFT's output-embedding rule: GPT-2's lm_head (tied to the token
     * embedding, so not a linear here); BERT and RoBERTa base models have no output layer.
     */
    private static String headPath(TextConfig config) {
        return config.type() == TextConfig.Type.GPT2 ? "lm_head" : null;
    }

    /**
     * Comma-separated token ids ({@code 5,17,42}) checked against the model's vocabulary;
     * {@code option} names the argument in errors.
     */
    static long[] parseIds(String option, String text, TextConfig config) {
        List<Long> ids = new ArrayList<>();
        if (!text.isBlank()) {
            for (String part : text.split(",", -1)) {
                long id;
                try {
                    id = Long.parseLong(part.strip());
                } catch (NumberFormatException e) {
                    throw new UsageException(option + " " + text + ": '" + part.strip() + "' is not an integer token id");
                }
                ids.add(id);
            }
        }
        if (ids.isEmpty()) {
            throw new UsageException(option + ": no token ids (give at least one, e.g. " + option + " 5,17,42)");
        }
        long[] out = ids.stream().mapToLong(Long::longValue).toArray();
        checkVocabulary(option, out, config);
        return out;
    }

    /** Every id in {@code [0, vocab_size)}. */
    static void checkVocabulary(String what, long[] ids, TextConfig config) {
        for (long id : ids) {
            if (id < 0 || id >= config.vocabSize()) {
                throw new UsageException(what + ": token id " + id + " is outside the model's vocabulary (0.."
                        + (config.vocabSize() - 1) + ", vocab_size " + config.vocabSize() + ")");
            }
        }
    }
}
