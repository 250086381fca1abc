package org.peft4j.cli;

import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.peft.MethodOptions;
import org.peft4j.peft.Methods;
import org.peft4j.tuners.TunerConfig;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The fine-tuning method options, shared by {@code train} and {@code bench}. Each method takes only
 * its own (see {@link Methods}); an option given to a method that does not take it, or options that
 * do not fit together, are a usage error (exit code 2) before anything is written.
 */
final class MethodFlags {

    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    @Spec
    CommandSpec self;

    @Option(names = "--target", split = ",", paramLabel = "NAMES",
            description = "Modules to adapt: names (query,value / qkv / all-linear) or re:REGEX on the module path. "
                    + "Default: query,value (Hugging Face naming) or qkv (timm naming); every layer for bitfit and ssf; "
                    + "keys, values and the MLP's second linear for ia3.")
    List<String> target;

    @Option(names = "--rank", description = "LoRA rank r, or MLAE's number of experts (default 8).")
    Integer rank;

    @Option(names = "--alpha", description = "lora_alpha (default 2 × rank), or MLAE's initial expert coefficient λ (default 2).")
    Double alpha;

    @Option(names = "--dropout", description = "lora_dropout (LoRA family, MLAE) or prompt dropout (VPT); default 0.")
    Double dropout;

    @Option(names = "--rslora", description = "Scale by alpha/sqrt(r) instead of alpha/r.")
    Boolean rslora;

    @Option(names = "--qkv-slices", split = ",", paramLabel = "q,k,v",
            description = "On a fused qkv layer, adapt only these slices, e.g. q,v (peft4j extension).")
    List<String> qkvSlices;

    @Option(names = "--init", description = "LoRA/DoRA init: kaiming (PEFT default), gaussian, or random (B non-zero).")
    String init;

    @Option(names = "--drop-rate", description = "MLAE: largest expert drop rate p (default 0.1; 0 with --mask fixed).")
    Double dropRate;

    @Option(names = "--mask", description = "MLAE masking: stochastic (default), fixed (needs --fixed-experts) or mixed.")
    String mask;

    @Option(names = "--fixed-experts", split = ",", paramLabel = "I,J",
            description = "MLAE: expert indices switched off for good (--mask fixed or mixed).")
    List<Integer> fixedExperts;

    @Option(names = "--schedule",
            description = "MLAE drop rate over the blocks: uniform (default), increasing, decreasing, hourglass, protruding.")
    String schedule;

    @Option(names = "--prompt-len", description = "VPT prompt tokens or prefix length (default 10).")
    Integer promptLength;

    @Option(names = "--prefix-projection", paramLabel = "HIDDEN",
            description = "Prefix: compute the prefixes with an MLP of this hidden size while training (default 0: none).")
    Integer projection;

    @Option(names = "--bottleneck", description = "Adapter bottleneck width (default 8).")
    Integer bottleneck;

    @Option(names = "--activation", description = "Adapter activation: relu (default) or gelu.")
    String activation;

    @Option(names = "--adapter-scale", description = "AdaptFormer's output scale s (default 0.1).")
    Double adapterScale;

    @Option(names = "--feedforward", split = ",",
            description = "IA3: the targets whose input is scaled (names or re:REGEX; a subset of --target).")
    List<String> feedforward;

    @Option(names = "--submodules", split = ",", paramLabel = "S,S",
            description = "MoPEFT's submodules: any of lora, prefix, adapter, vpt (default lora,prefix,adapter).")
    List<String> submodules;

    @Option(names = "--central-gate", description = "MoPEFT: a softmax gate over the submodules scales their gates.")
    boolean central;

    @Option(names = "--layers", split = ",", paramLabel = "I,J", description = "Block indices to adapt (layers_to_transform).")
    List<Integer> layers;

    /**
     * The tuner config of {@code method} for {@code model} (null for head and full), after checking
     * that every option given applies to the method, that they fit together and that they fit the model.
     */
    TunerConfig config(String method, VitForImageClassification model) {
        check(method, Set.of());
        try {
            TunerConfig config = Methods.config(method, options(), model);
            if (config != null) {
                config.inject(model, model.headPath()); // builds the hooks without touching the model: do the targets fit?
            }
            return config;
        } catch (IllegalArgumentException e) {
            throw new ParameterException(command.commandLine(), "--method " + method + ": " + e.getMessage());
        }
    }

    /**
     * The tuner config of segmentation method {@code method} for SAM (null for decoder-only), after
     * checking that every option given applies to it.
     */
    TunerConfig samConfig(String method, boolean tuneDecoder) {
        Methods.Method m;
        try {
            m = Methods.segmentationMethod(method);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(command.commandLine(), e.getMessage());
        }
        refuseOthers(method, m.options());
        try {
            return Methods.samConfig(method, options(), tuneDecoder);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(command.commandLine(), "--method " + method + ": " + e.getMessage());
        }
    }

    /** Fails (usage error) unless {@code method} exists and takes every method option given; {@code extra} are accepted too. */
    void check(String method, Set<String> extra) {
        if (!Methods.names().contains(method) && !extra.contains(method)) {
            throw new ParameterException(command.commandLine(), "unknown --method '" + method + "'; methods: "
                    + String.join(", ", Methods.names()));
        }
        refuseOthers(method, Methods.names().contains(method) ? Methods.options(method) : Set.of());
    }

    private void refuseOthers(String method, Set<String> allowed) {
        List<String> refused = new ArrayList<>();
        Set<String> mine = new java.util.HashSet<>();
        self.options().forEach(o -> mine.add(o.longestName()));
        for (OptionSpec o : command.commandLine().getParseResult().matchedOptions()) {
            if (mine.contains(o.longestName()) && !allowed.contains(o.longestName().substring(2))) {
                refused.add(o.longestName());
            }
        }
        if (!refused.isEmpty()) {
            throw new ParameterException(command.commandLine(), String.join(", ", refused) + " does not apply to --method "
                    + method + (allowed.isEmpty() ? " (it takes no method options)" : "; it takes "
                    + allowed.stream().sorted().map(a -> "--" + a).toList()));
        }
    }

    private MethodOptions options() {
        return new MethodOptions(target, rank, alpha, dropout, rslora, qkvSlices, init, dropRate, mask, fixedExperts,
                schedule, promptLength, projection, bottleneck, activation, adapterScale, feedforward, layers,
                submodules, central ? Boolean.TRUE : null);
    }
}
