package org.peft4j.cli;

import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.tuners.TargetModules;
import org.peft4j.tuners.lora.LoraConfig;
import picocli.CommandLine.Option;

import java.util.Arrays;
import java.util.List;

/** LoRA flags shared by {@code train} and {@code bench}. */
final class LoraOptions {

    @Option(names = "--target", split = ",",
            description = "Modules to adapt: names (query,value / qkv / all-linear) or re:REGEX on the module path. "
                    + "Default: query,value (Hugging Face naming) or qkv (timm naming).")
    List<String> target;

    @Option(names = "--rank", defaultValue = "8", description = "LoRA rank r (default ${DEFAULT-VALUE}).")
    int rank;

    @Option(names = "--alpha", description = "lora_alpha (default: 2 × rank).")
    Double alpha;

    @Option(names = "--dropout", defaultValue = "0.0", description = "lora_dropout (default ${DEFAULT-VALUE}).")
    double dropout;

    @Option(names = "--rslora", description = "Scale by alpha/sqrt(r) instead of alpha/r.")
    boolean rslora;

    @Option(names = "--qkv-slices", split = ",",
            description = "On a fused qkv layer, adapt only these slices, e.g. q,v (peft4j extension).")
    List<String> qkvSlices;

    @Option(names = "--init", defaultValue = "kaiming",
            description = "kaiming (PEFT default), gaussian, or random (B non-zero).")
    String init;

    LoraConfig config(VitForImageClassification model) {
        TargetModules targets;
        List<String> t = target != null ? target
                : model.config().naming().fusedQkv() ? List.of("qkv") : List.of("query", "value");
        if (t.size() == 1 && t.get(0).startsWith("re:")) {
            targets = TargetModules.regex(t.get(0).substring(3));
        } else {
            targets = new TargetModules(t, null, null, null);
        }
        List<Boolean> enable = null;
        if (qkvSlices != null) {
            enable = Arrays.asList(qkvSlices.contains("q"), qkvSlices.contains("k"), qkvSlices.contains("v"));
        }
        LoraConfig.Init initMode = switch (init) {
            case "kaiming" -> LoraConfig.Init.KAIMING;
            case "gaussian" -> LoraConfig.Init.GAUSSIAN;
            case "random" -> LoraConfig.Init.RANDOM;
            default -> throw new IllegalArgumentException("--init must be kaiming, gaussian or random");
        };
        return new LoraConfig(rank, alpha != null ? alpha : 2.0 * rank, dropout, targets, rslora, null, null,
                LoraConfig.Bias.NONE, List.of(model.headPath()), initMode, enable, null);
    }
}
