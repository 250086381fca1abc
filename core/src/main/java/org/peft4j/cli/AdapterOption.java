package org.peft4j.cli;

import picocli.CommandLine.Option;

import java.nio.file.Path;

/** {@code --adapter}, shared by eval, predict and merge-and-unload. */
final class AdapterOption {

    @Option(names = "--adapter", paramLabel = "DIR",
            description = "Adapter folder (adapter_config.json + adapter_model.safetensors) of any method.")
    Path adapter;
}
