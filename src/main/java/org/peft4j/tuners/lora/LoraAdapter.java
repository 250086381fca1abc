package org.peft4j.tuners.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.initializer.Initializer;
import org.peft4j.nn.Initializers;
import org.peft4j.nn.LinearAdapter;
import org.peft4j.nn.Ops;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * LoRA (Hu et al. 2021): {@code Δy = s · (drop(x) Aᵀ) Bᵀ}, A {@code [r, in]}, B {@code [out, r]}.
 *
 * <p>On a fused qkv layer, {@code enabled} picks which of the equal output slices get a delta;
 * B then has rows only for those, and the disabled slices receive zeros.
 */
public final class LoraAdapter implements LinearAdapter {

    private final int rank;
    private final float scale;
    private final float dropout;
    private final long outFeatures;
    private final boolean[] enabled;
    private final Parameter loraA;
    private final Parameter loraB;

    public LoraAdapter(long inFeatures, long outFeatures, int rank, double scale, double dropout,
                       List<Boolean> enabledSlices, LoraConfig.Init init) {
        this.rank = rank;
        this.scale = (float) scale;
        this.dropout = (float) dropout;
        this.outFeatures = outFeatures;
        int slices = enabledSlices == null ? 1 : enabledSlices.size();
        if (outFeatures % slices != 0) {
            throw new IllegalArgumentException("enable_lora has " + slices + " slices but the layer has "
                    + outFeatures + " outputs, not a multiple");
        }
        enabled = new boolean[slices];
        int on = 0;
        for (int i = 0; i < slices; i++) {
            enabled[i] = enabledSlices == null || enabledSlices.get(i);
            on += enabled[i] ? 1 : 0;
        }
        long bRows = outFeatures / slices * on;
        Initializer initA = switch (init) {
            case GAUSSIAN -> Initializers.normal((float) (1.0 / rank));
            case KAIMING, RANDOM -> Initializers.uniformFanIn(inFeatures);
        };
        Initializer initB = init == LoraConfig.Init.RANDOM ? Initializers.uniformFanIn(rank) : Initializers.zeros();
        loraA = param("lora_A.weight", new Shape(rank, inFeatures), initA);
        loraB = param("lora_B.weight", new Shape(bRows, rank), initB);
    }

    private static Parameter param(String name, Shape shape, Initializer init) {
        return Parameter.builder().setName(name).setType(Parameter.Type.WEIGHT)
                .optShape(shape).optInitializer(init).build();
    }

    @Override
    public NDArray delta(NDArray x, boolean training) {
        NDArray h = training && dropout > 0 ? Dropout.dropout(x, dropout, true).singletonOrThrow() : x;
        // Scaling the r-wide bottleneck costs r/out of scaling the output.
        NDArray u = Ops.scale(Linear.linear(h, loraA.getArray()).singletonOrThrow(), scale);
        return padSlices(Linear.linear(u, loraB.getArray()).singletonOrThrow(), -1);
    }

    @Override
    public NDArray deltaWeight() {
        return padSlices(loraB.getArray().matMul(loraA.getArray()).mul(scale), 0);
    }

    /** Puts zeros where a fused layer's slice is disabled, along {@code axis} (−1: outputs, 0: weight rows). */
    private NDArray padSlices(NDArray d, int axis) {
        if (enabled.length == 1) {
            return d;
        }
        int ax = axis < 0 ? d.getShape().dimension() + axis : axis;
        long slice = outFeatures / enabled.length;
        NDList parts = new NDList();
        long next = 0;
        for (boolean on : enabled) {
            if (on) {
                String range = next + ":" + (next + slice);
                parts.add(d.get(ax == 0 ? range : "..., " + range));
                next += slice;
            } else {
                long[] dims = d.getShape().getShape().clone();
                dims[ax] = slice;
                parts.add(d.getManager().zeros(new Shape(dims), d.getDataType()));
            }
        }
        return NDArrays.concat(parts, ax);
    }

    @Override
    public Map<String, Parameter> parameters() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        m.put("lora_A.weight", loraA);
        m.put("lora_B.weight", loraB);
        return m;
    }

    @Override
    public void initialize(NDManager manager) {
        loraA.initialize(manager, DataType.FLOAT32);
        loraB.initialize(manager, DataType.FLOAT32);
    }

    public int rank() {
        return rank;
    }

    public float scale() {
        return scale;
    }
}
