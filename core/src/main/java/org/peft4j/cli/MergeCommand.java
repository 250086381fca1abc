package org.peft4j.cli;

import org.peft4j.io.AtomicFiles;
import ai.djl.ndarray.NDManager;
import org.peft4j.io.Json;
import org.peft4j.models.vit.VitCheckpoint;
import org.peft4j.models.vit.VitForImageClassification;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "merge-and-unload", mixinStandardHelpOptions = true,
        description = "Fold an adapter into the base weights and save a plain model folder (config.json + model.safetensors).")
final class MergeCommand implements Callable<Integer> {

    @Mixin
    ModelOption model;

    @Mixin
    AdapterOption adapter;

    @Spec
    CommandSpec spec;

    @Option(names = "--out", required = true, description = "Output model folder: new or empty, or replaced with --overwrite.")
    Path out;

    @Option(names = "--overwrite", description = "Replace --out if it exists (never the model or adapter read).")
    boolean overwrite;

    @Option(names = "--unsafe", description = "Skip the NaN/Inf check before merging.")
    boolean unsafe;

    @Override
    public Integer call() throws Exception {
        try (NDManager manager = NDManager.newBaseManager()) {
            if (adapter.adapter == null) {
                throw new ParameterException(spec.commandLine(), "Missing required option: '--adapter=DIR'");
            }
            refuseVisionLanguage(adapter.adapter);
            // The merged weights must never land on what they are read from (it was silently overwritten).
            if (java.nio.file.Files.exists(Path.of(model.model))) {
                Outputs.requireApart(out, Path.of(model.model), "the --model folder");
            }
            Outputs.requireApart(out, adapter.adapter, "the --adapter folder");
            if (!overwrite && !AtomicFiles.isFreeOutput(out)) {
                throw new UsageException("--out " + out + " exists and is not empty; pass --overwrite to replace it");
            }
            Models.Loaded loaded = Models.load(model.model, adapter.adapter, manager);
            VitForImageClassification merged;
            try {
                merged = (VitForImageClassification) loaded.peft().mergeAndUnload(!unsafe);
            } catch (IllegalStateException e) { // a method that cannot merge, or NaN/Inf: nothing was written
                throw new UsageException(adapter.adapter + ": " + e.getMessage());
            }
            // Written aside and renamed into place: a failure leaves --out as it was.
            AtomicFiles.replaceDirectory(out, dir -> VitCheckpoint.save(merged, dir));
            System.out.println(Json.MAPPER.writeValueAsString(java.util.Map.of("out", out.toString())));
        }
        return 0;
    }

    /**
     * A routed LoRA or adapter mixes the image into its bottleneck and cross-attention reads the
     * image's tokens: no weight change reproduces them, so they are refused before anything loads.
     */
    private static void refuseVisionLanguage(Path adapterDir) throws java.io.IOException {
        Path config = adapterDir.resolve(org.peft4j.tuners.AdapterModel.CONFIG_FILE);
        if (!java.nio.file.Files.isRegularFile(config)) {
            return; // the loader reports it
        }
        com.fasterxml.jackson.databind.JsonNode o;
        try {
            o = Json.readFile(config);
        } catch (java.io.IOException e) {
            return; // the loader reports it
        }
        if (o != null && org.peft4j.tuners.routing.RoutingConfig.describes(o)) {
            String routing = o.path("routing").asText("none");
            throw new UsageException(adapterDir + ": a vision-language adapter (" + o.path("peft_type").asText()
                    + (routing.equals("none") ? "" : " with routing " + routing) + ") cannot be merged into the weights: "
                    + "its update depends on the image");
        }
    }
}
