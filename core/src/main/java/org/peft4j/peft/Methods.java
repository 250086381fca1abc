package org.peft4j.peft;

import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.tuners.TargetModules;
import org.peft4j.tuners.TunerConfig;
import org.peft4j.tuners.adapter.AdapterConfig;
import org.peft4j.tuners.bitfit.BitFitConfig;
import org.peft4j.tuners.ia3.Ia3Config;
import org.peft4j.tuners.lora.LoraConfig;
import org.peft4j.tuners.mlae.MlaeConfig;
import org.peft4j.tuners.mopeft.MopeftConfig;
import org.peft4j.tuners.prefix.PrefixConfig;
import org.peft4j.tuners.ssf.SsfConfig;
import org.peft4j.tuners.vpt.VptConfig;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Every fine-tuning method by its CLI name: what it is, which options it takes, and the tuner
 * config those options make for a given model, with the defaults the CLI and the suite share.
 * {@code head} (the classifier only) and {@code full} (every weight) need no tuner: their config is null.
 */
public final class Methods {

    /** One method: its name, a line of description, and the option names it accepts. */
    public record Method(String name, String description, Set<String> options) {}

    private static final Set<String> LORA = Set.of("target", "rank", "alpha", "dropout", "rslora", "qkv-slices", "init", "layers");
    private static final Map<String, Method> METHODS = new LinkedHashMap<>();
    /** Other names the CLI has accepted. */
    private static final Map<String, String> ALIASES = Map.of("head-only", "head", "linear-probe", "head");

    static {
        add("lora", "LoRA: s·B·A beside the targeted linears", LORA);
        add("dora", "DoRA: LoRA with a learned magnitude per output row", LORA);
        add("pissa", "LoRA initialised from the top-r singular part of W (PiSSA)",
                Set.of("target", "rank", "alpha", "dropout", "rslora", "qkv-slices", "layers"));
        add("mlae", "MLAE: r rank-1 experts with learned coefficients and expert masking",
                Set.of("target", "rank", "alpha", "dropout", "drop-rate", "mask", "fixed-experts", "schedule", "layers"));
        add("adapter-houlsby", "bottleneck adapters after each block's attention and MLP",
                Set.of("bottleneck", "activation", "layers"));
        add("adapter-pfeiffer", "bottleneck adapters after each block's MLP", Set.of("bottleneck", "activation", "layers"));
        add("adaptformer", "scaled bottleneck adapters parallel to each block's MLP",
                Set.of("bottleneck", "activation", "adapter-scale", "layers"));
        add("vpt-shallow", "visual prompt tokens before the first block", Set.of("prompt-len", "dropout"));
        add("vpt-deep", "fresh visual prompt tokens at every block", Set.of("prompt-len", "dropout", "layers"));
        add("prefix", "learned key/value prefixes in every block's attention", Set.of("prompt-len", "prefix-projection", "layers"));
        add("mopeft", "MoPEFT: gated LoRA (q, v) + prefix + adapter in every block, one learned gate per submodule",
                Set.of("rank", "prompt-len", "bottleneck", "submodules", "central-gate", "layers"));
        add("bitfit", "biases only", Set.of("target"));
        add("ssf", "per-channel scale and shift after every layer", Set.of("target"));
        add("ia3", "(IA)³: learned rescaling of keys and values (all of a fused qkv) and of the MLP's inner activations",
                Set.of("target", "feedforward"));
        add("head", "the classification head only (a linear probe)", Set.of());
        add("full", "every weight (full fine-tuning)", Set.of());
    }

    /**
     * The methods of promptable segmentation on SAM ({@code train --task segmentation}): each adapts
     * every image-encoder block (MoPEFT's submodules one at a time, at MoPEFT's sizes, so the mixture
     * is compared with its parts), or trains the mask decoder alone.
     */
    private static final Map<String, Method> SEGMENTATION = new LinkedHashMap<>();

    static {
        SEGMENTATION.put("mopeft", new Method("mopeft", "MoPEFT: gated LoRA (q, v) + prefix + adapter in every encoder block",
                METHODS.get("mopeft").options()));
        SEGMENTATION.put("lora", new Method("lora", "LoRA on the q and v thirds of every encoder qkv (r = 8, alpha = 16)", LORA));
        SEGMENTATION.put("adapter", new Method("adapter", "a bottleneck adapter after every encoder MLP (m = 16)",
                Set.of("bottleneck", "activation", "layers")));
        SEGMENTATION.put("prefix", new Method("prefix", "10 learned key/value prefixes in every encoder attention (every window)",
                Set.of("prompt-len", "layers")));
        SEGMENTATION.put("vpt", new Method("vpt", "VPT-deep: 10 prompt tokens per encoder block, as keys and values in every window",
                Set.of("prompt-len", "dropout", "layers")));
        SEGMENTATION.put("decoder-only", new Method("decoder-only", "the mask decoder only; the image encoder frozen", Set.of()));
        SEGMENTATION.put("zero-shot", new Method("zero-shot", "nothing trains: the pretrained SAM as it is (a reference)", Set.of()));
    }

    private Methods() {}

    public static List<String> segmentationNames() {
        return List.copyOf(SEGMENTATION.keySet());
    }

    public static Method segmentationMethod(String name) {
        Method m = SEGMENTATION.get(name);
        if (m == null) {
            throw new IllegalArgumentException("unknown segmentation method '" + name + "'; methods: "
                    + String.join(", ", segmentationNames()));
        }
        return m;
    }

    /**
     * The tuner config of segmentation method {@code method} for SAM (null for decoder-only); with
     * {@code tuneDecoder} the mask decoder trains beside the adapter and is saved with it
     * ({@code modules_to_save}).
     */
    public static TunerConfig samConfig(String method, MethodOptions o, boolean tuneDecoder) {
        segmentationMethod(method);
        List<String> save = tuneDecoder ? List.of(SAM_DECODER) : List.of();
        int rank = or(o.rank(), 8);
        return switch (method) {
            case "mopeft" -> mopeft(o, rank, save);
            case "lora" -> lora("lora", o.qkvSlices() == null ? withSlices(o, List.of("q", "v")) : o, true, rank, save);
            case "adapter" -> new AdapterConfig(AdapterConfig.Style.PFEIFFER, or(o.bottleneck(), 16),
                    or(o.activation(), "relu"), 1.0, o.layers(), save);
            case "prefix" -> new PrefixConfig(or(o.promptLength(), 10), 0, 0.02, o.layers(), save);
            case "vpt" -> new VptConfig(or(o.promptLength(), 10), true, or(o.dropout(), 0.0), o.layers(), save);
            default -> null; // decoder-only, zero-shot
        };
    }

    /**
     * The default peak learning rate of a segmentation method: 3e-3 for the adapters (1e-3 left them
     * under-trained in 12 epochs on the suite's domains), 1e-3 for the whole decoder.
     */
    public static double samLearningRate(String method) {
        return segmentationMethod(method).name().equals("decoder-only") ? 1e-3 : 3e-3;
    }

    /** SAM's mask decoder, as a module path. */
    public static final String SAM_DECODER = "mask_decoder";

    private static MethodOptions withSlices(MethodOptions o, List<String> slices) {
        return new MethodOptions(o.targets(), o.rank(), o.alpha(), o.dropout(), o.rslora(), slices, o.init(), o.dropRate(),
                o.mask(), o.fixedExperts(), o.schedule(), o.promptLength(), o.projection(), o.bottleneck(), o.activation(),
                o.adapterScale(), o.feedforward(), o.layers(), o.submodules(), o.central());
    }

    private static void add(String name, String description, Set<String> options) {
        METHODS.put(name, new Method(name, description, options));
    }

    /** The method's own name for one of its aliases ({@code linear-probe} → {@code head}); other names as given. */
    public static String canonical(String name) {
        return ALIASES.getOrDefault(name, name);
    }

    public static List<String> names() {
        return List.copyOf(METHODS.keySet());
    }

    public static Method method(String name) {
        Method m = METHODS.get(name);
        if (m == null) {
            throw new IllegalArgumentException("unknown method '" + name + "'; methods: " + String.join(", ", names()));
        }
        return m;
    }

    /** The option names {@code method} accepts (without the leading dashes). */
    public static Set<String> options(String method) {
        return method(method).options();
    }

    /**
     * The tuner config of {@code method} for {@code model} (null for head and full): the model's head
     * is always a module to save; unset options take the defaults documented on the CLI.
     */
    public static TunerConfig config(String method, MethodOptions o, VitForImageClassification model) {
        method(method);
        boolean fused = model.config().naming().fusedQkv();
        List<String> head = List.of(model.headPath());
        int rank = or(o.rank(), 8);
        return switch (method) {
            case "lora", "dora", "pissa" -> lora(method, o, fused, rank, head);
            case "mlae" -> {
                MlaeConfig.Masking masking = MlaeConfig.Masking.parse(or(o.mask(), "stochastic"));
                double rate = or(o.dropRate(), masking == MlaeConfig.Masking.FIXED ? 0.0 : 0.1);
                yield new MlaeConfig(rank, or(o.alpha(), 2.0), rate, masking, o.fixedExperts(),
                        MlaeConfig.Schedule.parse(or(o.schedule(), "uniform")), or(o.dropout(), 0.0),
                        withLayers(targets(o.targets(), fused ? List.of("qkv") : List.of("query", "value")), o.layers()),
                        head);
            }
            case "adapter-houlsby", "adapter-pfeiffer", "adaptformer" -> {
                AdapterConfig.Style style = switch (method) {
                    case "adapter-houlsby" -> AdapterConfig.Style.HOULSBY;
                    case "adapter-pfeiffer" -> AdapterConfig.Style.PFEIFFER;
                    default -> AdapterConfig.Style.ADAPTFORMER;
                };
                yield new AdapterConfig(style, or(o.bottleneck(), 8), or(o.activation(), "relu"),
                        or(o.adapterScale(), style == AdapterConfig.Style.ADAPTFORMER ? 0.1 : 1.0), o.layers(), head);
            }
            case "vpt-shallow", "vpt-deep" -> new VptConfig(or(o.promptLength(), 10), method.equals("vpt-deep"),
                    or(o.dropout(), 0.0), o.layers(), head);
            case "prefix" -> new PrefixConfig(or(o.promptLength(), 10), or(o.projection(), 0), 0.02, o.layers(), head);
            case "mopeft" -> mopeft(o, rank, head);
            case "bitfit" -> new BitFitConfig(targets(o.targets(), null), head);
            case "ssf" -> new SsfConfig(targets(o.targets(), null), 0.02, head);
            case "ia3" -> ia3(o, fused, head);
            default -> null; // head, full
        };
    }

    private static MopeftConfig mopeft(MethodOptions o, int rank, List<String> save) {
        return new MopeftConfig(or(o.submodules(), MopeftConfig.SUBMODULES), rank, or(o.promptLength(), 10),
                or(o.bottleneck(), 16), or(o.central(), false), o.layers(), save);
    }

    private static LoraConfig lora(String method, MethodOptions o, boolean fused, int rank, List<String> head) {
        TargetModules targets = withLayers(targets(o.targets(), fused ? List.of("qkv") : List.of("query", "value")),
                o.layers());
        List<Boolean> slices = null;
        if (o.qkvSlices() != null) {
            for (String s : o.qkvSlices()) {
                if (!List.of("q", "k", "v").contains(s)) {
                    throw new IllegalArgumentException("--qkv-slices takes q, k and v, got '" + s + "'");
                }
            }
            slices = Arrays.asList(o.qkvSlices().contains("q"), o.qkvSlices().contains("k"), o.qkvSlices().contains("v"));
        }
        LoraConfig.Init init = method.equals("pissa") ? LoraConfig.Init.PISSA : switch (or(o.init(), "kaiming")) {
            case "kaiming" -> LoraConfig.Init.KAIMING;
            case "gaussian" -> LoraConfig.Init.GAUSSIAN;
            case "random" -> LoraConfig.Init.RANDOM;
            default -> throw new IllegalArgumentException("--init must be kaiming, gaussian or random, got '" + o.init() + "'");
        };
        return new LoraConfig(rank, or(o.alpha(), 2.0 * rank), or(o.dropout(), 0.0), targets, or(o.rslora(), false),
                null, null, LoraConfig.Bias.NONE, head, init, slices, null, method.equals("dora"));
    }

    /**
     * IA³'s usual placement: keys, values and the MLP's second linear (input-side). Hugging Face
     * naming needs regexes, as {@code output.dense} also ends the attention's output path.
     */
    private static Ia3Config ia3(MethodOptions o, boolean fused, List<String> head) {
        if (o.targets() != null) {
            List<String> ff = o.feedforward();
            boolean regex = ff != null && ff.size() == 1 && ff.get(0).startsWith("re:");
            return new Ia3Config(targets(o.targets(), null), regex ? null : ff, regex ? ff.get(0).substring(3) : null,
                    head, true);
        }
        if (o.feedforward() != null) {
            throw new IllegalArgumentException("--feedforward needs --target (the feed-forward modules are a subset of the targets)");
        }
        String ff = fused ? ".*\\.mlp\\.fc2" : ".*\\.layer\\.\\d+\\.output\\.dense";
        String attention = fused ? ".*\\.attn\\.qkv" : ".*\\.attention\\.attention\\.(key|value)";
        return new Ia3Config(TargetModules.regex(attention + "|" + ff), null, ff, head, true);
    }

    /** {@code --target}: names, or one {@code re:REGEX}; {@code fallback} null means every layer (regex {@code .*}). */
    static TargetModules targets(List<String> given, List<String> fallback) {
        List<String> t = given != null ? given : fallback;
        if (t == null) {
            return TargetModules.regex(".*");
        }
        if (t.size() == 1 && t.get(0).startsWith("re:")) {
            return TargetModules.regex(t.get(0).substring(3));
        }
        return new TargetModules(t, null, null, null);
    }

    private static TargetModules withLayers(TargetModules t, List<Integer> layers) {
        return layers == null ? t : new TargetModules(t.names(), t.regex(), t.exclude(), t.excludeRegex(), layers);
    }

    private static <T> T or(T value, T fallback) {
        return value != null ? value : fallback;
    }
}
