package org.peft4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.PairList;

import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A DJL block that knows its children and parameters by the names checkpoints use.
 *
 * <p>DJL prefixes child names with a counter ({@code 01qkv}), so we keep our own names next to
 * DJL's. A child name may contain dots ({@code attention.attention.query}): one class can then
 * mirror both the Hugging Face and the timm module paths without an empty module per path segment.
 *
 * <p>Every parameter is declared with its shape up front, so a model can be built and inspected
 * (parameter counts, target matching) before any memory is allocated.
 */
public abstract class Module extends AbstractBlock {

    static {
        NativeMemory.keepFreedMemory(); // every tensor path builds modules first
    }

    private final Map<String, Module> modules = new LinkedHashMap<>();
    private final Map<String, Parameter> params = new LinkedHashMap<>();
    /** Active per-adapter replacements of this module's parameters (modules_to_save). */
    private final Map<Parameter, Parameter> overrides = new IdentityHashMap<>();

    protected final <M extends Module> M addModule(String name, M module) {
        if (modules.containsKey(name)) {
            throw new IllegalArgumentException("duplicate module name " + name);
        }
        modules.put(name, module);
        return addChildBlock(name, module);
    }

    protected final Parameter addParam(String name, Shape shape, Initializer initializer) {
        Parameter p = Parameter.builder()
                .setName(name)
                .setType(Parameter.Type.OTHER)
                .optShape(shape)
                .optInitializer(initializer)
                .build();
        params.put(name, p);
        return addParameter(p);
    }

    /** The array a forward pass must use for {@code p}: an adapter's copy when one is active. */
    protected final NDArray value(Parameter p) {
        Parameter o = overrides.isEmpty() ? null : overrides.get(p);
        return (o != null ? o : p).getArray();
    }

    /** Routes {@code original} to {@code replacement} in forward passes (null restores it). */
    public final void setOverride(Parameter original, Parameter replacement) {
        if (!params.containsValue(original)) {
            throw new IllegalArgumentException(original.getName() + " is not a parameter of " + this);
        }
        if (replacement == null) {
            overrides.remove(original);
        } else {
            overrides.put(original, replacement);
        }
    }

    /** Direct parameters by their checkpoint names ({@code weight}, {@code bias}, ...). */
    public final Map<String, Parameter> params() {
        return new LinkedHashMap<>(params);
    }

    /** Every module of the tree by dotted path; the root is {@code ""}. */
    public final LinkedHashMap<String, Module> namedModules() {
        LinkedHashMap<String, Module> out = new LinkedHashMap<>();
        collectModules("", out);
        return out;
    }

    private void collectModules(String prefix, Map<String, Module> out) {
        // A child registered under "" shares its parent's path; the parent keeps the entry.
        out.putIfAbsent(prefix, this);
        for (Map.Entry<String, Module> e : modules.entrySet()) {
            e.getValue().collectModules(join(prefix, e.getKey()), out);
        }
    }

    /** Every parameter of the tree by its checkpoint name, e.g. {@code blocks.0.attn.qkv.weight}. */
    public final LinkedHashMap<String, Parameter> namedParameters() {
        LinkedHashMap<String, Parameter> out = new LinkedHashMap<>();
        for (Map.Entry<String, Module> m : namedModules().entrySet()) {
            for (Map.Entry<String, Parameter> p : m.getValue().params.entrySet()) {
                out.put(join(m.getKey(), p.getKey()), p.getValue());
            }
        }
        return out;
    }

    public static String join(String prefix, String name) {
        if (name.isEmpty()) {
            return prefix;
        }
        return prefix.isEmpty() ? name : prefix + "." + name;
    }

    /** Number of scalars in {@code p}, known from its declared shape even before allocation. */
    public static long numel(Parameter p) {
        return p.getShape().size();
    }

    /** Freezes or unfreezes every parameter of this subtree. */
    public final void setTrainable(boolean trainable) {
        for (Parameter p : namedParameters().values()) {
            p.freeze(!trainable);
        }
    }

    /** Allocates and initialises every parameter (shapes are declared, so no input shape is needed). */
    public final void initialize(NDManager manager) {
        initialize(manager, DataType.FLOAT32);
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        for (Module m : modules.values()) {
            m.initialize(manager, dataType, inputShapes);
        }
    }

    /**
     * Runs the module on one tensor. Parameters are read directly (single device), so the DJL
     * ParameterStore indirection, which exists for multi-GPU copies, is not needed here.
     */
    public abstract NDArray forward(NDArray x, ForwardContext ctx);

    /**
     * {@code compute}'s output, with every other array it made freed at once: a block's intermediates
     * (attention maps, MLP activations) then go as the block ends, not at the end of the whole pass.
     * Training too: closing a handle drops only Java's reference, and autograd keeps its own on what
     * backward needs (as in PyTorch, where a tensor goes with its last reference).
     */
    protected static NDArray freeingIntermediates(java.util.function.Supplier<NDArray> compute) {
        NDArray out;
        try (ai.djl.ndarray.NDScope scope = new ai.djl.ndarray.NDScope()) {
            out = compute.get();
            ai.djl.ndarray.NDScope.unregister(out);
        }
        // DJL registers an array with the innermost scope only: the enclosing one (a step's) takes the
        // output over, or it would live until its manager closes.
        ai.djl.ndarray.NDScope.register(out);
        return out;
    }

    /** {@link #forward(NDArray, ForwardContext)} in train or eval mode, with no context values. */
    public final NDArray forward(NDArray x, boolean training) {
        return forward(x, ForwardContext.of(training));
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(forward(inputs.singletonOrThrow(), ForwardContext.of(training)));
    }

    /** Most of our modules keep their input's shape; the ones that do not say so. */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return inputShapes;
    }

    /** All modules of type {@code type} (a class or an interface such as {@link HookedBlock}) by path. */
    public final <M> LinkedHashMap<String, M> modulesOfType(Class<M> type) {
        LinkedHashMap<String, M> out = new LinkedHashMap<>();
        namedModules().forEach((path, m) -> {
            if (type.isInstance(m)) {
                out.put(path, type.cast(m));
            }
        });
        return out;
    }
}
