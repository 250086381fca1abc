package org.peft4j.cli;

import picocli.CommandLine.Option;

/** {@code --model}, shared by train, eval, predict and merge-and-unload. */
final class ModelOption {

    @Option(names = "--model", required = true, paramLabel = "DIR|PRESET",
            description = "Model folder (config.json + model.safetensors, Hugging Face or timm tensor names) or preset.")
    String model;
}
