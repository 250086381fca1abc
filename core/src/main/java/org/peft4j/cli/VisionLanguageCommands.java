package org.peft4j.cli;

import ai.djl.ndarray.NDManager;
import org.peft4j.data.DataException;
import org.peft4j.data.vl.VlData;
import org.peft4j.demo.FashionMnistDemo;
import org.peft4j.data.FashionMnist;
import org.peft4j.models.text.TextCheckpoint;
import org.peft4j.models.text.TextModel;
import org.peft4j.models.text.TextTokenizer;
import org.peft4j.models.vit.VitCheckpoint;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.models.vl.VisionLanguageModel;
import org.peft4j.nn.Module;
import org.peft4j.train.LanguageModelPretraining;
import org.peft4j.train.VlFineTuning;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** What {@code train --task vqa|caption} needs besides its options: the default backbones, the data, the run. */
final class VisionLanguageCommands {

    static final String TEXT_MODEL = "gpt2-fortunes";
    /** Built-in task sizes: VQA questions (3 per scene) and caption images (5 captions each). */
    static final int VQA_TRAIN = 6000;
    static final int VQA_TEST = 1200;
    static final int CAPTION_TRAIN = 2000;
    static final int CAPTION_TEST = 300;

    private VisionLanguageCommands() {}

    interface Reporter {
        void report(Map<String, Object> summary, int train, int test) throws IOException;
    }

    /** The ViT folder: {@code --model}, or the project's backbone (pretrained on Fashion-MNIST on first use). */
    static Path vision(String model, boolean progress) throws Exception {
        if (model != null) {
            Path dir = Path.of(model);
            if (!Files.isRegularFile(dir.resolve("config.json"))) {
                throw new UsageException("--model " + model + " is not a ViT folder (config.json + model.safetensors)");
            }
            return dir;
        }
        FashionMnistDemo.ensureData(FashionMnist.DEFAULT_DIR);
        return FashionMnistDemo.backbone(FashionMnist.DEFAULT_DIR, FashionMnistDemo.DEFAULT_CACHE_DIR, progress).dir();
    }

    /** The language model folder: {@code --text-model}, or the project's GPT-2 (pretrained on fortunes on first use). */
    static Path text(Path textModel, boolean progress) throws IOException {
        if (textModel != null) {
            if (!Files.isRegularFile(textModel.resolve("config.json"))) {
                throw new UsageException("--text-model " + textModel + " is not a text model folder (config.json + model.safetensors)");
            }
            return textModel;
        }
        return LanguageModelPretraining.ensure(FashionMnistDemo.DEFAULT_CACHE_DIR, LanguageModelPretraining.Recipe.DEFAULT, progress);
    }

    static void run(String task, String data, String model, Path textModel, VlFineTuning.Recipe recipe, Path out, boolean progress,
                    Reporter reporter) throws Exception {
        String spec = data == null ? task : data;
        if (!spec.equals(task) && !spec.startsWith(task + ":")) {
            throw new UsageException("--data for --task " + task + " is '" + task + "' or '" + task + ":DIR', got '" + spec + "'");
        }
        if (spec.contains(":")) {
            Outputs.requireApart(out, Path.of(spec.substring(spec.indexOf(':') + 1)), "the data folder");
        }
        Path vitDir = vision(model, progress);
        Path textDir = text(textModel, progress);
        Outputs.requireApart(out, vitDir, "the vision model folder");
        Outputs.requireApart(out, textDir, "the text model folder");
        VlData.Split<?> split;
        try {
            int size = 28;
            split = task.equals("vqa") ? VlData.vqa(spec, VQA_TRAIN, VQA_TEST, size, recipe.seed())
                    : VlData.caption(spec, CAPTION_TRAIN, CAPTION_TEST, size, recipe.seed());
        } catch (DataException | IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        try (NDManager manager = NDManager.newBaseManager()) {
            VitForImageClassification vit = VitCheckpoint.load(vitDir, manager);
            Module text = TextCheckpoint.load(textDir, manager);
            TextModel tm = (TextModel) text;
            try (TextTokenizer tok = TextTokenizer.load(textDir, tm.config().vocabSize())) {
                int answers = 0;
                if (task.equals("vqa")) {
                    answers = VlFineTuning.answerVocabulary(split.train()).size();
                }
                VisionLanguageModel vlm;
                try {
                    vlm = new VisionLanguageModel(vit, text, answers);
                } catch (IllegalArgumentException e) {
                    throw new UsageException(e.getMessage());
                }
                vlm.initializeNew(manager);
                VlFineTuning.Outcome outcome = VlFineTuning.run(vlm, tok, split.train(), split.test(), recipe, out, manager, progress);
                Map<String, Object> summary = outcome.toJson();
                summary.put("vision_model", vitDir.toString());
                summary.put("text_model", textDir.toString());
                summary.put("data", split.description());
                // what generate --image needs to rebuild the model around the adapter
                Map<String, Object> record = new java.util.LinkedHashMap<>();
                record.put("task", task);
                record.put("vision_model", vitDir.toAbsolutePath().toString());
                record.put("text_model", textDir.toAbsolutePath().toString());
                org.peft4j.io.AtomicFiles.writeString(out.resolve(VL_RECORD), org.peft4j.io.Json.toPythonStyle(record) + "\n");
                reporter.report(summary, split.train().size(), split.test().size());
            }
        }
    }

    /** Beside a vision-language adapter: the task and the ViT and text model folders it was trained on. */
    static final String VL_RECORD = "vl_model.json";

    /**
     * {@code generate --image}: the ViT recorded beside the captioning adapter, the text model, the
     * adapter; the image's pooled feature as the visual prefix, then greedy or beam decoding.
     */
    static long[] caption(Path textDir, Path adapter, Path image, long[] prompt, int maxNew, int beams, int eos, boolean cache,
                          NDManager manager) throws IOException {
        Path recordFile = adapter.resolve(VL_RECORD);
        if (!Files.isRegularFile(recordFile)) {
            throw new UsageException("--adapter " + adapter + " is not a vision-language adapter (no " + VL_RECORD
                    + "; train one with train --task caption)");
        }
        com.fasterxml.jackson.databind.JsonNode record = org.peft4j.io.Json.readFile(recordFile);
        if (!"caption".equals(record.path("task").asText())) {
            throw new UsageException("--adapter " + adapter + " was trained for " + record.path("task").asText()
                    + "; --image generation needs a captioning adapter");
        }
        org.peft4j.data.RawImage raw;
        try {
            raw = org.peft4j.data.ImageFolder.decode(image);
        } catch (RuntimeException e) {
            throw new UsageException("--image " + image + ": " + e.getMessage());
        }
        VitForImageClassification vit = VitCheckpoint.load(Path.of(record.path("vision_model").asText()), manager);
        if (!VlFineTuning.fits(raw, vit.config())) {
            throw new UsageException("--image " + image + " has " + raw.channels() + " channels; the ViT takes " + vit.config().numChannels());
        }
        Module text = TextCheckpoint.load(textDir, manager);
        VisionLanguageModel vlm = new VisionLanguageModel(vit, text, 0);
        vlm.initializeNew(manager);
        org.peft4j.peft.PeftModel peft = new org.peft4j.peft.PeftModel(vlm, null, manager);
        peft.load(adapter, org.peft4j.peft.PeftModel.DEFAULT_ADAPTER);
        long[] suppress = new long[0];
        if (TextTokenizer.exists(textDir)) {
            try (TextTokenizer tok = TextTokenizer.load(textDir, ((TextModel) text).config().vocabSize())) {
                suppress = VlFineTuning.suppressedTokens(((TextModel) text).config(), tok);
            }
        }
        return VlFineTuning.generate(vlm, raw, prompt, maxNew, beams, eos, cache, manager, suppress);
    }
}
