package org.peft4j.models.text;

import ai.djl.ndarray.NDArray;
import org.peft4j.nn.ForwardContext;

/**
 * What the two text families share, for the tuners and the vision-language model: token
 * embeddings in, hidden states out, with room in between for embeddings that are not tokens (a
 * visual prefix) and for a key/value cache.
 */
public interface TextModel {

    TextConfig config();

    /** Token ids {@code [B, N]} (int64) → their embeddings {@code [B, N, d]}, no positions yet. */
    NDArray embedTokens(NDArray ids);

    /**
     * Embeddings {@code [B, N, d]} (tokens, or a visual prefix and tokens) → hidden states
     * {@code [B, N, d]}: positions added, every block run, the final norm applied (GPT-2).
     *
     * @param mask  {@code [B, T]} 1 for a real token, 0 for padding, over the cached and the new
     *              positions (T = cached + N); null when nothing is padded
     * @param cache keys and values of earlier tokens, extended here (decoders only), or null
     */
    NDArray encode(NDArray embeddings, NDArray mask, KvCache cache, ForwardContext ctx);

    /** Hidden states {@code [B, N, d]} → next-token logits {@code [B, N, V]} (decoders: the tied token embedding). */
    NDArray logits(NDArray hidden);

    /** Whether the model is a causal decoder (GPT-2) rather than a bidirectional encoder. */
    default boolean causal() {
        return config().type().causal();
    }

    /** Ids {@code [B, N]} → hidden states, no padding, no cache. */
    default NDArray hiddenStates(NDArray ids, ForwardContext ctx) {
        return encode(embedTokens(ids), null, null, ctx);
    }

    /** An additive attention mask {@code [B, 1, N, T]} (or {@code [B, 1, 1, T]}) from a 0/1 mask, causal for decoders. */
    static NDArray additiveMask(NDArray mask, long newTokens, long totalTokens, boolean causal, ai.djl.ndarray.NDManager manager) {
        NDArray bias = null;
        if (mask != null) {
            // (1 − m)·(−1e9): a padded key gets no weight; −1e9 rather than −∞ keeps an all-padded row finite.
            NDArray keep = mask.toType(ai.djl.ndarray.types.DataType.FLOAT32, false);
            bias = keep.neg().add(1f).mul(-1e9f).reshape(keep.getShape().get(0), 1, 1, totalTokens);
        }
        if (causal && newTokens > 1) {
            // query i (at absolute position T − N + i) sees keys up to that position
            float[] c = new float[(int) (newTokens * totalTokens)];
            long offset = totalTokens - newTokens;
            for (int i = 0; i < newTokens; i++) {
                for (long j = offset + i + 1; j < totalTokens; j++) {
                    c[(int) (i * totalTokens + j)] = -1e9f;
                }
            }
            NDArray causalBias = manager.create(c, new ai.djl.ndarray.types.Shape(1, 1, newTokens, totalTokens));
            bias = bias == null ? causalBias : bias.add(causalBias);
        }
        return bias;
    }
}
