package org.peft4j.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.peft4j.data.ImageFolder;
import org.peft4j.data.ImageTransform;
import org.peft4j.data.RawImage;
import org.peft4j.eval.Metrics;
import org.peft4j.io.Json;
import org.peft4j.io.SafetensorsReader;
import org.peft4j.io.SafetensorsWriter;
import org.peft4j.models.text.TextCheckpoint;
import org.peft4j.models.text.TextConfig;
import org.peft4j.models.vit.VitConfig;
import org.peft4j.nn.ForwardContext;
import org.peft4j.tuners.AdapterModel;
import org.peft4j.train.FineTuning;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

@Command(name = "predict", mixinStandardHelpOptions = true,
        description = {"Classify an image, a folder of images, or a .safetensors file of pixel_values [N,C,H,W]; "
                + "prints one JSON line per input.",
                "With a text model folder (model_type gpt2, bert, roberta) and --input-ids: runs the model on that one "
                + "sequence, writes logits [1,N,V] (decoders) or last_hidden_state [1,N,d] (encoders) float32 and "
                + "input_ids int64 to --output, and prints one JSON line describing it."})
final class PredictCommand implements Callable<Integer> {

    @Mixin
    ModelOption model;

    @Mixin
    AdapterOption adapter;

    @Option(names = "--input", description = "Image file, folder of images, or .safetensors with pixel_values (image models).")
    Path input;

    @Option(names = "--input-ids", paramLabel = "ID,ID,...", description = "Token ids of one sequence (text models).")
    String inputIds;

    @Option(names = "--output", description = "Write logits [N, num_labels] float32 to this .safetensors file "
            + "(with --input-ids: required, and the text model's output).")
    Path output;

    @Option(names = "--overwrite", description = "Replace --output if it exists (never a file the command reads).")
    boolean overwrite;

    @Option(names = "--batch-size", defaultValue = "32")
    int batchSize;

    /** Preprocessed inputs: {@code count} images of {@code c×h×w} floats, with display names. */
    private record Inputs(List<String> names, float[] pixels, int channels, int height, int width) {}

    @Override
    public Integer call() throws Exception {
        if ((input == null) == (inputIds == null)) {
            throw new UsageException("give exactly one of --input (image models) and --input-ids (text models)");
        }
        if (inputIds != null) {
            return predictText();
        }
        if (TextModels.isTextModel(model.model)) {
            throw new UsageException("--input is for image models; " + model.model + " is a text model: give --input-ids");
        }
        if (!Files.exists(input)) {
            throw new IOException(input + ": not found");
        }
        if (output != null) { // before anything runs: the logits must not land on the model, the adapter or an image
            checkOutput(List.of(input));
            Outputs.requireApart("--output", output, Path.of(model.model), "the --model folder");
            if (adapter.adapter != null) {
                Outputs.requireApart("--output", output, adapter.adapter, "the --adapter folder");
            }
            if (Files.isDirectory(input)) {
                Outputs.requireApart("--output", output, input, "the --input folder");
            }
        }
        try (NDManager manager = NDManager.newBaseManager()) {
            Models.Loaded loaded = Models.load(model.model, adapter.adapter, manager);
            VitConfig config = loaded.vit().config();
            Inputs in = read(FineTuning.transformFor(loaded.vit()), config);
            int n = in.names().size();
            int labels = config.numLabels();
            int per = in.channels() * in.height() * in.width();
            float[] logits = new float[n * labels];
            for (int from = 0; from < n; from += batchSize) {
                int count = Math.min(batchSize, n - from);
                float[] chunk = new float[count * per];
                System.arraycopy(in.pixels(), from * per, chunk, 0, count * per);
                try (NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    NDArray x = manager.create(chunk, new Shape(count, in.channels(), in.height(), in.width()));
                    float[] out = loaded.runnable().forward(x, false).toFloatArray();
                    System.arraycopy(out, 0, logits, from * labels, out.length);
                }
            }
            int[] predicted = Metrics.argmax(logits, n, labels);
            for (int i = 0; i < n; i++) {
                int best = predicted[i];
                Map<String, Object> line = new LinkedHashMap<>();
                line.put("input", in.names().get(i));
                line.put("label", config.labels().get(best));
                line.put("score", Metrics.softmax(logits, i * labels, labels)[best]);
                System.out.println(Json.MAPPER.writeValueAsString(line));
            }
            if (output != null) {
                new SafetensorsWriter().add("logits", logits, n, labels).write(output);
            }
        }
        return 0;
    }

    /** One token sequence through a text model; its output tensor written to --output. */
    private int predictText() throws IOException {
        if (output == null) {
            throw new UsageException("--input-ids needs --output FILE.safetensors (where the model's output is written)");
        }
        TextConfig config = TextModels.config(model.model, "--input-ids needs a text model folder");
        long[] ids = TextModels.parseIds("--input-ids", inputIds, config);
        if (ids.length > config.contextLength()) {
            throw new UsageException("--input-ids: " + ids.length + " tokens exceed the model's context of "
                    + config.contextLength() + " (" + Path.of(model.model).resolve("config.json") + ")");
        }
        List<Path> inputs = new ArrayList<>(List.of(Path.of(model.model).resolve("config.json"),
                Path.of(model.model).resolve(TextCheckpoint.WEIGHTS_FILE)));
        if (adapter.adapter != null) {
            inputs.add(adapter.adapter.resolve(AdapterModel.CONFIG_FILE));
            inputs.add(adapter.adapter.resolve(AdapterModel.WEIGHTS_FILE));
        }
        checkOutput(inputs);
        boolean decoder = config.type().causal();
        String tensor = decoder ? "logits" : "last_hidden_state";
        long[] shape;
        try (NDManager manager = NDManager.newBaseManager()) {
            TextModels.Loaded loaded = TextModels.load(model.model, config, adapter.adapter, manager);
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                NDArray x = manager.create(ids, new Shape(1, ids.length));
                NDArray hidden = loaded.model().hiddenStates(x, ForwardContext.INFERENCE);
                NDArray out = decoder ? loaded.model().logits(hidden) : hidden;
                shape = out.getShape().getShape();
                new SafetensorsWriter().add(tensor, out.toType(DataType.FLOAT32, false)).add("input_ids", x).write(output);
            }
        }
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("model_type", config.type().modelType);
        line.put("tokens", ids.length);
        line.put("output", output.toString());
        line.put("tensor", tensor);
        line.put("shape", shape);
        System.out.println(Json.MAPPER.writeValueAsString(line));
        return 0;
    }

    /** --output is a new file (or --overwrite), never a folder, never one of the files the command reads. */
    private void checkOutput(List<Path> inputs) throws IOException {
        for (Path in : inputs) {
            boolean same = Files.exists(output) && Files.exists(in) ? Files.isSameFile(output, in)
                    : output.toAbsolutePath().normalize().equals(in.toAbsolutePath().normalize());
            if (same) {
                throw new UsageException("--output " + output + " is one of the command's inputs (" + in + "); choose another file");
            }
        }
        if (Files.isDirectory(output)) {
            throw new UsageException("--output " + output + " is a folder; give a .safetensors file");
        }
        if (!overwrite && Files.exists(output, LinkOption.NOFOLLOW_LINKS)) {
            throw new UsageException("--output " + output + " exists; pass --overwrite to replace it");
        }
    }

    private Inputs read(ImageTransform transform, VitConfig config) throws IOException {
        if (input.toString().endsWith(".safetensors")) {
            try (SafetensorsReader r = SafetensorsReader.open(input)) {
                if (!r.contains("pixel_values")) {
                    throw new IOException(input + ": no tensor 'pixel_values' (has " + r.names() + ")");
                }
                long[] s = r.info("pixel_values").shape();
                if (s.length != 4 || s[1] != config.numChannels() || s[2] != config.imageSize() || s[3] != config.imageSize()) {
                    throw new IOException(input + ": pixel_values has shape " + new Shape(s) + ", the model needs [N, "
                            + config.numChannels() + ", " + config.imageSize() + ", " + config.imageSize() + "]");
                }
                List<String> names = new ArrayList<>();
                for (int i = 0; i < s[0]; i++) {
                    names.add(input.getFileName() + "#" + i);
                }
                return new Inputs(names, r.readFloats("pixel_values"), (int) s[1], (int) s[2], (int) s[3]);
            }
        }
        List<Path> files;
        if (Files.isDirectory(input)) {
            try (Stream<Path> list = Files.list(input)) {
                files = list.filter(ImageFolder::isImageFile).sorted().toList();
            }
            if (files.isEmpty()) {
                throw new IOException(input + ": no PNG/JPEG/BMP/GIF images in this folder");
            }
        } else {
            files = List.of(input);
        }
        int per = transform.floatsPerImage();
        float[] pixels = new float[files.size() * per];
        List<String> names = new ArrayList<>();
        for (int i = 0; i < files.size(); i++) {
            RawImage img = ImageFolder.decode(files.get(i));
            transform.apply(img, pixels, i * per);
            names.add(files.get(i).toString());
        }
        return new Inputs(names, pixels, config.numChannels(), config.imageSize(), config.imageSize());
    }
}
