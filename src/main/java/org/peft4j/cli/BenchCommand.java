package org.peft4j.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import org.peft4j.io.Json;
import org.peft4j.models.vit.VitConfig;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.models.vit.VitNaming;
import org.peft4j.models.vit.VitPresets;
import org.peft4j.nn.Module;
import org.peft4j.peft.Methods;
import org.peft4j.peft.PeftModel;
import org.peft4j.train.AdamW;
import org.peft4j.train.Trainer;
import org.peft4j.tuners.TunerConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Time training or inference steps on random weights and inputs; prints JSON "
                + "(median and minimum step time, images/s, peak memory).")
final class BenchCommand implements Callable<Integer> {

    @Option(names = "--preset", defaultValue = "vit-ti16-224", description = "ViT preset (default ${DEFAULT-VALUE}).")
    String preset;

    @Option(names = "--mode", defaultValue = "train", description = "train or infer.")
    String mode;

    @Option(names = "--method",
            description = "Any train --method, or none (default: lora for train, none for infer; infer runs the adapter unmerged).")
    String method;

    @Mixin
    MethodFlags methodFlags;

    @Option(names = "--batch-size", defaultValue = "32")
    int batchSize;

    @Option(names = "--steps", defaultValue = "5", description = "Timed steps (after one untimed warm-up step).")
    int steps;

    @Option(names = "--warmup-steps", defaultValue = "1")
    int warmupSteps;

    @Option(names = "--naming", defaultValue = "timm",
            description = "timm (fused qkv, like the PyTorch reference) or hf (separate query/key/value).")
    String naming;

    @Option(names = "--labels", defaultValue = "10", description = "Classifier size, as the PyTorch reference (10).")
    int labels;

    @Override
    public Integer call() throws Exception {
        boolean train = switch (mode) {
            case "train" -> true;
            case "infer" -> false;
            default -> throw new UsageException("--mode must be train or infer, got '" + mode + "'");
        };
        String how = method != null ? Methods.canonical(method) : train ? "lora" : "none";
        if (train && how.equals("none")) {
            throw new UsageException("--mode train needs a --method that trains");
        }
        methodFlags.check(how, Set.of("none"));
        Engine.getInstance().setRandomSeed(0);
        try (NDManager manager = NDManager.newBaseManager()) {
            VitNaming layout = switch (naming) {
                case "timm" -> VitNaming.TIMM;
                case "hf" -> VitNaming.HF;
                default -> throw new UsageException("--naming must be timm or hf, got '" + naming + "'");
            };
            VitConfig config = VitPresets.get(preset).withLabels(VitConfig.defaultLabels(labels)).withNaming(layout);
            VitForImageClassification vit = new VitForImageClassification(config);
            vit.initialize(manager);
            Map<String, Parameter> trainable = new LinkedHashMap<>();
            long allParams = vit.namedParameters().values().stream().mapToLong(Module::numel).sum();
            TunerConfig tuner = how.equals("none") ? null : methodFlags.config(how, vit);
            vit.setTrainable(false);
            if (tuner != null) {
                PeftModel peft = new PeftModel(vit, vit.headPath(), manager);
                peft.addAdapter(PeftModel.DEFAULT_ADAPTER, tuner);
                trainable = peft.trainableParameters();
                allParams = peft.counts().all();
            } else if (how.equals("full")) {
                vit.setTrainable(true);
                trainable = vit.namedParameters();
            } else if (how.equals("head")) {
                vit.head().setTrainable(true);
                for (Map.Entry<String, Parameter> e : vit.head().namedParameters().entrySet()) {
                    trainable.put(Module.join(vit.headPath(), e.getKey()), e.getValue());
                }
            }
            // Freed with the manager at the end of the run.
            AdamW optimizer = train ? new AdamW(trainable, 0.01, manager) : null;
            Random random = new Random(0);
            float[] pixels = new float[batchSize * config.numChannels() * config.imageSize() * config.imageSize()];
            for (int i = 0; i < pixels.length; i++) {
                pixels[i] = (float) random.nextGaussian();
            }
            int[] y = new int[batchSize];
            for (int i = 0; i < batchSize; i++) {
                y[i] = random.nextInt(labels);
            }
            Shape shape = new Shape(batchSize, config.numChannels(), config.imageSize(), config.imageSize());
            double[] times = new double[steps];
            for (int i = 0; i < warmupSteps + steps; i++) {
                long t0 = System.nanoTime();
                try (NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    NDArray x = manager.create(pixels, shape);
                    if (train) {
                        Trainer.backward(vit, x, y, 1.0);
                        optimizer.clipGradNorm(1.0);
                        optimizer.step(1e-3);
                    } else {
                        vit.forward(x, false).sum().getFloat();
                    }
                }
                if (i >= warmupSteps) {
                    times[i - warmupSteps] = (System.nanoTime() - t0) / 1e9;
                }
            }
            double[] sorted = times.clone();
            Arrays.sort(sorted);
            double median = sorted[sorted.length / 2];
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("preset", preset);
            out.put("mode", mode);
            out.put("method", how);
            out.put("naming", naming);
            out.put("targets", tuner == null ? null : tuner.toJson().get("target_modules"));
            out.put("batch_size", batchSize);
            out.put("steps", steps);
            out.put("threads", Engine.getInstance().getEngineName().equals("PyTorch")
                    ? Integer.getInteger("ai.djl.pytorch.num_threads", Runtime.getRuntime().availableProcessors())
                    : Runtime.getRuntime().availableProcessors());
            out.put("trainable_params", trainable.values().stream().mapToLong(Module::numel).sum());
            out.put("all_params", allParams);
            out.put("median_s", median);
            out.put("min_s", sorted[0]);
            out.put("images_per_s", batchSize / median);
            out.put("peak_rss_mb", peakRssMb());
            out.put("step_times_s", times);
            System.out.println(Json.MAPPER.writeValueAsString(out));
        }
        return 0;
    }

    /** Peak resident memory of this process (VmHWM), which includes native tensors and the JVM heap. */
    private static double peakRssMb() throws IOException {
        Path status = Path.of("/proc/self/status");
        if (!Files.isReadable(status)) {
            return Double.NaN;
        }
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
            }
        }
        return Double.NaN;
    }
}
