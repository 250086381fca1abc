package org.peft4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;

import java.util.List;

/**
 * The hook points of one transformer block, for tuners that act on more than one layer: the token
 * sequence entering the block (visual prompts), prefixes to its self-attention keys and values
 * (prefix tuning), and its two residual branches (bottleneck adapters). Any model family exposes
 * them by implementing {@link HookedBlock}; the block calls the helpers here at the documented
 * places, so the tuners need not know the model.
 *
 * @param index         the block's position in its stack, from 0
 * @param dim           the token width d
 * @param numHeads      attention heads (prefixes are split into them like keys and values)
 * @param leadingTokens special tokens at the front of the sequence that prompts go after (ViT: the class token)
 * @param tokenFanIn    inputs per token of the embedding that makes the tokens (C·p² for patches); prompt initialisation uses it
 */
public record BlockHooks(int index, int dim, int numHeads, int leadingTokens, long tokenFanIn,
                         HookSlot<TokenHook> tokens, HookSlot<KeyValueHook> keyValues,
                         HookSlot<BranchHook> attentionBranch, HookSlot<BranchHook> mlpBranch) {

    public BlockHooks(int index, int dim, int numHeads, int leadingTokens, long tokenFanIn) {
        this(index, dim, numHeads, leadingTokens, tokenFanIn,
                new HookSlot<>(), new HookSlot<>(), new HookSlot<>(), new HookSlot<>());
    }

    public List<HookSlot<?>> slots() {
        return List.of(tokens, keyValues, attentionBranch, mlpBranch);
    }

    /** The sequence after every active token hook (called on the block's input). */
    public NDArray applyTokens(NDArray x, ForwardContext ctx) {
        for (TokenHook h : tokens.running()) {
            x = h.apply(x, ctx);
        }
        return x;
    }

    /**
     * Key and value prefixes {@code [B, L, d]} of every active prefix hook, concatenated along L, for
     * the attention input {@code h}; null when there are none. Every active hook is called, also one
     * that returns none (a gate computed from h).
     */
    public NDList keyValuePrefixes(NDArray h, ForwardContext ctx) {
        List<KeyValueHook> run = keyValues.running();
        if (run.isEmpty()) {
            return null;
        }
        NDList keys = new NDList();
        NDList values = new NDList();
        for (KeyValueHook hook : run) {
            NDList kv = hook.prefixes(h, ctx); // null: the hook only reads h (MoPEFT's gates)
            if (kv != null) {
                keys.add(kv.get(0));
                values.add(kv.get(1));
            }
        }
        if (keys.isEmpty()) {
            return null;
        }
        return keys.size() == 1 ? new NDList(keys.get(0), values.get(0))
                : new NDList(NDArrays.concat(keys, 1), NDArrays.concat(values, 1));
    }

    /** A residual branch's output after every active hook of {@code slot}. */
    public static NDArray applyBranch(HookSlot<BranchHook> slot, NDArray input, NDArray output, ForwardContext ctx) {
        for (BranchHook h : slot.running()) {
            output = h.apply(input, output, ctx);
        }
        return output;
    }
}
