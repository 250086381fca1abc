package org.peft4j.tuners.vpt;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.Dropout;
import org.peft4j.nn.Hook;
import org.peft4j.nn.BlockHooks;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.TokenHook;

import java.util.Map;

/**
 * One block's visual prompt, all of VPT's math: P {@code [p, d]} ~ U(±√(6/(fan_in + d))), Xavier's
 * bound with the token embedding's fan-in (VPT's code writes 3·patch², the fan-in of an RGB patch).
 * On entry to the block the sequence {@code [lead, rest]} becomes {@code [lead, P, rest]} (insert:
 * the first prompted block) or {@code [lead, P, rest without the previous p prompt tokens]} (replace:
 * later blocks of a deep prompt). P is shared by the batch; prompt dropout applies while training.
 */
public final class PromptTokens implements TokenHook {

    private final int lead;
    private final int length;
    private final boolean insert;
    private final float dropout;
    private final Parameter prompt;

    PromptTokens(BlockHooks block, VptConfig config, boolean insert) {
        this.lead = block.leadingTokens();
        this.length = config.promptLength();
        this.insert = insert;
        this.dropout = (float) config.dropout();
        float bound = (float) Math.sqrt(6.0 / (block.tokenFanIn() + block.dim()));
        prompt = Hook.parameter("vpt_prompt", new Shape(length, block.dim()),
                (m, s, t) -> m.randomUniform(-bound, bound, s, t));
    }

    @Override
    public Map<String, Parameter> parameters() {
        return Map.of("vpt_prompt", prompt);
    }

    @Override
    public NDArray apply(NDArray x, ForwardContext ctx) {
        Shape s = x.getShape();
        long b = s.get(0);
        NDArray p = prompt.getArray().expandDims(0).broadcast(b, length, s.get(2));
        if (ctx.training() && dropout > 0) {
            p = Dropout.dropout(p, dropout, true).singletonOrThrow();
        }
        long restFrom = insert ? lead : lead + length;
        if (!insert && s.get(1) < restFrom) {
            throw new IllegalStateException("a deep prompt replaces " + length + " tokens after the first " + lead
                    + ", but the sequence has only " + s.get(1));
        }
        NDList parts = new NDList();
        if (lead > 0) {
            parts.add(x.get(":, :" + lead + ", :"));
        }
        parts.add(p);
        parts.add(x.get(":, " + restFrom + ":, :"));
        return NDArrays.concat(parts, 1);
    }
}
