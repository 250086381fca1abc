package org.peft4j.models.sam;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import org.peft4j.nn.ForwardContext;
import org.peft4j.nn.Initializers;
import org.peft4j.nn.Module;

/**
 * A transposed convolution whose stride equals its kernel (SAM's 2x2, stride-2 upscaling), weight
 * {@code [in, out, k, k]} as PyTorch stores it. DJL's PyTorch engine has no conv-transpose
 * (DJL-NOTES); with stride = kernel the output patches do not overlap, so it is one matmul and a
 * reshape: {@code out[o, k·y+dy, k·x+dx] = bias[o] + Σ_c w[c, o, dy, dx] · in[c, y, x]}, differentiable.
 */
public final class ConvTranspose2dLayer extends Module {

    private final Parameter weight;
    private final Parameter bias;
    private final int in;
    private final int out;
    private final int k;

    public ConvTranspose2dLayer(int in, int out, int k) {
        this.in = in;
        this.out = out;
        this.k = k;
        weight = addParam("weight", new Shape(in, out, k, k), Initializers.uniformFanIn((long) out * k * k));
        bias = addParam("bias", new Shape(out), Initializers.zeros());
    }

    @Override
    public NDArray forward(NDArray x, ForwardContext ctx) {
        Shape s = x.getShape();
        long b = s.get(0);
        long h = s.get(2);
        long w = s.get(3);
        if (s.get(1) != in) {
            throw new IllegalArgumentException("expected " + in + " channels, got " + s);
        }
        NDArray y = x.transpose(0, 2, 3, 1).reshape(b * h * w, in).matMul(value(weight).reshape(in, (long) out * k * k))
                .reshape(b, h, w, out, k, k).transpose(0, 3, 1, 4, 2, 5).reshape(b, out, h * k, w * k);
        return y.add(value(bias).reshape(1, out, 1, 1));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape s = inputShapes[0];
        return new Shape[] {new Shape(s.get(0), out, s.get(2) * k, s.get(3) * k)};
    }
}
