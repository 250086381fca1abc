package org.peft4j.models.vit;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Named ViT sizes: the standard ones (random weights, for benchmarks) and tiny test/demo models. */
public final class VitPresets {

    private static final Map<String, VitConfig> PRESETS = new LinkedHashMap<>();
    private static final Map<String, String> TIMM_NAMES = Map.of(
            "vit_tiny_patch16_224", "vit-ti16-224",
            "vit_small_patch16_224", "vit-s16-224",
            "vit_base_patch16_224", "vit-b16-224",
            "vit_large_patch16_224", "vit-l16-224");

    static {
        // Standard sizes use timm naming (fused qkv), like the PyTorch benchmark reference.
        put("vit-ti16-224", 192, 12, 3, 224, 16, 3, 1e-6f, 1000, VitNaming.TIMM);
        put("vit-s16-224", 384, 12, 6, 224, 16, 3, 1e-6f, 1000, VitNaming.TIMM);
        put("vit-b16-224", 768, 12, 12, 224, 16, 3, 1e-6f, 1000, VitNaming.TIMM);
        put("vit-l16-224", 1024, 24, 16, 224, 16, 3, 1e-6f, 1000, VitNaming.TIMM);
        // Tiny models for tests and the built-in demo (Fashion-MNIST, 28×28 gray).
        put("vit-tiny-test", 32, 2, 4, 16, 4, 3, 1e-6f, 5, VitNaming.HF);
        put("vit-fmnist-demo", 64, 4, 4, 28, 4, 1, 1e-6f, 10, VitNaming.HF);
    }

    private VitPresets() {}

    private static void put(String name, int dim, int depth, int heads, int image, int patch,
                            int channels, float eps, int labels, VitNaming naming) {
        float[] half = VitConfig.filled(channels, 0.5f);
        PRESETS.put(name, new VitConfig(dim, depth, heads, 4 * dim, image, patch, channels, eps, true,
                VitConfig.defaultLabels(labels), half, half, naming));
    }

    public static boolean exists(String name) {
        return PRESETS.containsKey(name);
    }

    public static VitConfig get(String name) {
        VitConfig c = PRESETS.get(name);
        if (c == null) {
            throw new IllegalArgumentException("unknown ViT preset '" + name + "'; known: " + names());
        }
        return c;
    }

    public static List<String> names() {
        return List.copyOf(PRESETS.keySet());
    }

    static VitConfig byTimmName(String architecture) {
        String preset = TIMM_NAMES.get(architecture);
        if (preset == null) {
            throw new IllegalArgumentException("timm architecture '" + architecture
                    + "' has no preset; give the sizes in Hugging Face config.json fields instead");
        }
        return get(preset);
    }
}
