package org.peft4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;

/** A lookup table {@code weight [rows, dim]} (PyTorch's nn.Embedding, parameter {@code weight}). */
public final class EmbeddingLayer extends Module {

    private final long rows;
    private final Parameter weight;

    public EmbeddingLayer(long rows, long dim) {
        this.rows = rows;
        weight = addParam("weight", new Shape(rows, dim), Initializers.normal(0.02f));
    }

    public Parameter weight() {
        return weight;
    }

    public long rows() {
        return rows;
    }

    /** Rows {@code ids} (any shape, int64) → {@code [..., dim]}. */
    @Override
    public NDArray forward(NDArray ids, ForwardContext ctx) {
        // Autograd keeps the index for the backward pass: a copy in native memory, never a view of
        // a Java buffer that may be freed before then (DJL-NOTES).
        NDArray index = ids.getDataType() == DataType.INT64 ? ids.duplicate() : ids.toType(DataType.INT64, false);
        Shape s = ids.getShape();
        NDArray out = value(weight).get(index.reshape(-1));
        out.attach(ids.getManager()); // made from a parameter: it would live as long as the model (DJL-NOTES)
        return out.reshape(s.add(out.getShape().get(1)));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0].add(weight.getShape().get(1))};
    }
}
