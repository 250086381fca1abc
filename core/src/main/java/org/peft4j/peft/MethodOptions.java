package org.peft4j.peft;

import java.util.List;

/**
 * The options a fine-tuning method may take, as the CLI and the benchmark suite give them; null
 * means "the method's default" (see {@link Methods}). Not every method takes every option:
 * {@link Methods#options(String)} says which.
 *
 * @param targets      module names, or one {@code re:REGEX}
 * @param dropout      the method's dropout: LoRA's lora_dropout, MLAE's input dropout, VPT's prompt dropout
 * @param layers       block indices (layers_to_transform)
 * @param submodules   MoPEFT's submodules (lora, prefix, adapter, vpt)
 * @param central      MoPEFT's central softmax gate
 */
public record MethodOptions(
        List<String> targets, Integer rank, Double alpha, Double dropout, Boolean rslora, List<String> qkvSlices,
        String init, Double dropRate, String mask, List<Integer> fixedExperts, String schedule, Integer promptLength,
        Integer projection, Integer bottleneck, String activation, Double adapterScale, List<String> feedforward,
        List<Integer> layers, List<String> submodules, Boolean central) {

    public static final MethodOptions DEFAULTS = new MethodOptions(null, null, null, null, null, null, null, null,
            null, null, null, null, null, null, null, null, null, null, null, null);
}
