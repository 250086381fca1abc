package org.peft4j.cli;

import org.peft4j.data.FashionMnist;
import org.peft4j.data.suite.SuiteTask;
import org.peft4j.demo.FashionMnistDemo;
import org.peft4j.suite.LinearProbe;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code --model}, {@code --data-dir} and {@code --cache} of the commands that run the suite's tasks (suite, merge-study). */
final class BackboneOptions {

    @Option(names = "--model", paramLabel = "DIR",
            description = "A ViT checkpoint folder to start from instead of the project's backbone "
                    + "(no linear probe is computed for it); for suite --task segmentation, a SAM folder instead of sam-shapes.")
    Path model;

    @Option(names = "--data-dir", description = "Fashion-MNIST IDX folder (default ${DEFAULT-VALUE}).")
    Path dataDir = FashionMnist.DEFAULT_DIR;

    @Option(names = "--cache", description = "Where the pretrained backbone (or sam-shapes) is cached (default ~/.cache/peft4j).")
    Path cache;

    /** The model every run starts from, and its record for the report. */
    record Backbone(Path dir, Map<String, Object> record) {}

    void check() {
        if (model != null && !Files.isRegularFile(model.resolve("config.json"))) {
            throw new UsageException("--model " + model + " is not a model folder (config.json + model.safetensors)");
        }
    }

    /**
     * {@code --model}, or the project's pretrained backbone (pretrained and cached on first use, with
     * its linear probe) when none; Fashion-MNIST is installed first when a task or the backbone needs it.
     */
    Backbone resolve(List<SuiteTask> tasks, boolean progress) throws Exception {
        if (model == null || tasks.stream().anyMatch(t -> t.name().equals("fashion-mnist"))) {
            FashionMnistDemo.ensureData(dataDir);
        }
        Map<String, Object> record = new LinkedHashMap<>();
        if (model == null) {
            FashionMnistDemo.Backbone b = FashionMnistDemo.backbone(dataDir,
                    cache != null ? cache : FashionMnistDemo.DEFAULT_CACHE_DIR, progress);
            record.put("name", FashionMnistDemo.BACKBONE_NAME);
            record.put("path", b.dir().toString());
            record.put("pretraining", b.record());
            record.put("linear_probe", LinearProbe.ensure(b.dir(), dataDir, progress));
            return new Backbone(b.dir(), record);
        }
        record.put("name", model.toAbsolutePath().normalize().getFileName().toString());
        record.put("path", model.toString());
        record.put("linear_probe", "n/a (custom model)");
        return new Backbone(model, record);
    }
}
