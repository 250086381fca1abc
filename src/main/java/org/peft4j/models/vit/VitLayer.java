package org.peft4j.models.vit;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;
import org.peft4j.nn.LayerNormLayer;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.Module;

/** One pre-norm transformer block: {@code x + attn(norm1 x)}, then {@code x + fc2(gelu(fc1(norm2 x)))}. */
public final class VitLayer extends Module {

    private final LayerNormLayer norm1;
    private final VitAttention attention;
    private final LayerNormLayer norm2;
    private final LinearLayer fc1;
    private final LinearLayer fc2;

    VitLayer(VitConfig c, VitNaming naming) {
        norm1 = addModule(naming.norm1, new LayerNormLayer(c.hiddenSize(), c.layerNormEps()));
        // The attention's own linears carry the full path; it adds no path segment of its own.
        attention = addModule("", new VitAttention(c, naming));
        norm2 = addModule(naming.norm2, new LayerNormLayer(c.hiddenSize(), c.layerNormEps()));
        fc1 = addModule(naming.fc1, new LinearLayer(c.hiddenSize(), c.intermediateSize(), true));
        fc2 = addModule(naming.fc2, new LinearLayer(c.intermediateSize(), c.hiddenSize(), true));
    }

    @Override
    public NDArray forward(NDArray x, boolean training) {
        x = x.add(attention.forward(norm1.forward(x, training), training));
        NDArray h = Activation.gelu(fc1.forward(norm2.forward(x, training), training));
        return x.add(fc2.forward(h, training));
    }
}
