package org.peft4j.cli;

import ai.djl.ndarray.NDManager;
import org.peft4j.io.Json;
import org.peft4j.models.vit.VitCheckpoint;
import org.peft4j.models.vit.VitForImageClassification;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "merge-and-unload", mixinStandardHelpOptions = true,
        description = "Fold an adapter into the base weights and save a plain model folder (config.json + model.safetensors).")
final class MergeCommand implements Callable<Integer> {

    @Option(names = "--model", required = true)
    String model;

    @Option(names = "--adapter", required = true)
    Path adapter;

    @Option(names = "--out", required = true)
    Path out;

    @Option(names = "--unsafe", description = "Skip the NaN/Inf check before merging.")
    boolean unsafe;

    @Override
    public Integer call() throws Exception {
        try (NDManager manager = NDManager.newBaseManager()) {
            Models.Loaded loaded = Models.load(model, adapter, manager);
            VitForImageClassification merged = (VitForImageClassification) loaded.peft().mergeAndUnload(!unsafe);
            VitCheckpoint.save(merged, out);
            System.out.println(Json.MAPPER.writeValueAsString(java.util.Map.of("out", out.toString())));
        }
        return 0;
    }
}
