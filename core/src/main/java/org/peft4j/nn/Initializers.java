package org.peft4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.initializer.Initializer;

/** PyTorch's default initialisations, so that models built here start like their Python twins. */
public final class Initializers {

    private Initializers() {}

    /** {@code U(±1/√fan_in)}: nn.Linear / nn.Conv2d default, same as kaiming_uniform_(a=√5). */
    public static Initializer uniformFanIn(long fanIn) {
        float bound = (float) (1.0 / Math.sqrt(fanIn));
        return (NDManager m, Shape shape, DataType type) -> m.randomUniform(-bound, bound, shape, type);
    }

    public static Initializer normal(float std) {
        return (NDManager m, Shape shape, DataType type) -> m.randomNormal(0f, std, shape, type);
    }

    public static Initializer truncatedNormal(float std) {
        return (NDManager m, Shape shape, DataType type) -> m.truncatedNormal(0f, std, shape, type);
    }

    public static Initializer constant(float value) {
        return (NDManager m, Shape shape, DataType type) -> m.full(shape, value, type);
    }

    public static Initializer zeros() {
        return (NDManager m, Shape shape, DataType type) -> m.zeros(shape, type);
    }

    public static Initializer ones() {
        return (NDManager m, Shape shape, DataType type) -> m.ones(shape, type);
    }

    /**
     * Fills {@code target} in place from {@code source} (values copied, autograd flags kept). A full-slice
     * assignment: DJL's {@code set(buffer)} runs under a deprecated libtorch guard that prints a warning
     * on the console. A parameter stops requiring gradients for the copy, which libtorch refuses on a
     * leaf that requires them on threads that record (a server's request threads do).
     */
    public static void copyInto(NDArray target, NDArray source) {
        if (!target.getShape().equals(source.getShape())) {
            throw new IllegalArgumentException(
                    "shape " + source.getShape() + " does not fit " + target.getShape());
        }
        if (target.getShape().dimension() == 0) {
            target.set(source.toType(target.getDataType(), false).toByteBuffer()); // a slice needs a dimension
            return;
        }
        boolean requiresGradient = target.hasGradient();
        try (NDArray cast = source.toType(target.getDataType(), true)) {
            if (requiresGradient) {
                target.setRequiresGradient(false);
            }
            target.set(new ai.djl.ndarray.index.NDIndex(":"), cast);
        } finally {
            if (requiresGradient) {
                target.setRequiresGradient(true);
            }
        }
    }

    /** {@link #copyInto(NDArray, NDArray)} from Java values in row-major order. */
    public static void copyInto(NDArray target, float[] values) {
        try (NDArray source = target.getManager().create(values, target.getShape())) {
            copyInto(target, source);
        }
    }
}
