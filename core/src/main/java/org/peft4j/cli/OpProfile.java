package org.peft4j.cli;

import ai.djl.engine.Engine;
import com.fasterxml.jackson.databind.JsonNode;
import org.peft4j.io.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where a step's time goes: libtorch's own profiler (through DJL's JNI) records every op, and each op's
 * self time (its duration less its children's) is summed into a few classes — matrix products,
 * attention's softmax, norms and activations, copies and reshapes, other element-wise math. Written here
 * because DJL exposes the profiler only as a Chrome-trace file; the classes are what the roofline
 * report needs to show the next bottleneck.
 */
final class OpProfile {

    static final List<String> CLASSES = List.of("matmul", "softmax", "norm_activation", "copy_reshape", "elementwise", "other");

    private static final Set<String> MATMUL = Set.of("mm", "addmm", "bmm", "baddbmm", "matmul", "linear", "mkldnn_linear",
            "convolution", "_convolution", "mkldnn_convolution", "conv2d", "addmv", "dot", "einsum");
    private static final Set<String> SOFTMAX = Set.of("softmax", "_softmax", "log_softmax", "_log_softmax",
            "_softmax_backward_data", "_log_softmax_backward_data", "masked_fill", "masked_fill_");
    private static final Set<String> NORM_ACTIVATION = Set.of("layer_norm", "native_layer_norm", "native_layer_norm_backward",
            "gelu", "gelu_backward", "relu", "threshold_backward", "tanh", "tanh_backward", "sigmoid", "sigmoid_backward",
            "silu", "native_batch_norm", "group_norm", "native_group_norm");
    private static final Set<String> COPY_RESHAPE = Set.of("copy_", "contiguous", "clone", "cat", "stack", "permute", "transpose",
            "t", "view", "reshape", "_reshape_alias", "expand", "as_strided", "select", "slice", "index", "index_select", "to",
            "_to_copy", "empty", "empty_strided", "empty_like", "zeros", "zeros_like", "ones", "fill_", "zero_", "split",
            "chunk", "unsqueeze", "squeeze", "flatten", "narrow", "repeat", "pad", "constant_pad_nd", "gather", "scatter",
            "index_put_", "_unsafe_view", "detach", "alias", "resolve_conj", "resolve_neg", "unbind", "new_zeros", "new_empty");
    private static final Set<String> ELEMENTWISE = Set.of("add", "add_", "mul", "mul_", "div", "div_", "sub", "sub_", "sqrt",
            "pow", "neg", "exp", "sum", "mean", "max", "min", "where", "abs", "square", "addcmul_", "addcdiv_", "rsub",
            "reciprocal", "erf", "log", "amax", "clamp", "clamp_", "norm", "linalg_vector_norm", "sign", "lerp_", "sqrt_", "mul_out");

    private OpProfile() {}

    /**
     * Runs {@code work} under the profiler and returns the seconds of each class (an empty map when the
     * engine is not PyTorch).
     */
    /** Seconds by class, and by op name (the {@code top} most expensive ops, most first). */
    record Profile(Map<String, Double> byClass, Map<String, Double> topOps) {}

    static Profile of(Runnable work, int top) throws IOException {
        if (!"PyTorch".equals(Engine.getInstance().getEngineName())) {
            work.run();
            return new Profile(Map.of(), Map.of());
        }
        Path trace = Files.createTempFile("peft4j-profile-", ".json");
        try {
            ai.djl.pytorch.jni.JniUtils.startProfile(false, false, false);
            try {
                work.run();
            } finally {
                ai.djl.pytorch.jni.JniUtils.stopProfile(trace.toString());
            }
            JsonNode events = Json.MAPPER.readTree(trace.toFile());
            Map<String, Double> ops = new LinkedHashMap<>();
            selfTimes(events, (name, seconds) -> ops.merge(name, seconds, Double::sum));
            Map<String, Double> topOps = new LinkedHashMap<>();
            ops.entrySet().stream().sorted(Map.Entry.<String, Double>comparingByValue().reversed()).limit(top)
                    .forEach(e -> topOps.put(e.getKey(), e.getValue()));
            return new Profile(classify(events), topOps);
        } finally {
            Files.deleteIfExists(trace);
        }
    }

    /** One op event: name, start and duration in microseconds, thread. */
    private record Event(String name, double start, double duration, String thread) {
        double end() {
            return start + duration;
        }
    }

    static Map<String, Double> classify(JsonNode trace) {
        Map<String, Double> seconds = new LinkedHashMap<>();
        CLASSES.forEach(c -> seconds.put(c, 0.0));
        selfTimes(trace, (name, s) -> seconds.merge(classOf(name), s, Double::sum));
        return seconds;
    }

    /** Calls {@code sink} with each op event's name and self time in seconds. */
    private static void selfTimes(JsonNode trace, java.util.function.ObjDoubleConsumer<String> sink) {
        Map<String, List<Event>> byThread = new LinkedHashMap<>();
        for (JsonNode e : trace) {
            if (!"X".equals(e.path("ph").asText()) || !e.has("dur")) {
                continue;
            }
            Event ev = new Event(e.path("name").asText(), e.path("ts").asDouble(), e.path("dur").asDouble(), e.path("tid").asText());
            byThread.computeIfAbsent(ev.thread(), k -> new ArrayList<>()).add(ev);
        }
        for (List<Event> events : byThread.values()) {
            events.sort(Comparator.comparingDouble(Event::start).thenComparing(Comparator.comparingDouble(Event::duration).reversed()));
            Map<Event, Double> childTime = new java.util.IdentityHashMap<>();
            Deque<Event> open = new ArrayDeque<>();
            for (Event e : events) {
                while (!open.isEmpty() && open.peek().end() <= e.start()) {
                    open.pop();
                }
                if (!open.isEmpty()) {
                    childTime.merge(open.peek(), e.duration(), Double::sum);
                }
                open.push(e);
            }
            for (Event e : events) {
                sink.accept(e.name(), Math.max(0, e.duration() - childTime.getOrDefault(e, 0.0)) / 1e6);
            }
        }
    }

    static String classOf(String name) {
        String op = name.startsWith("aten::") ? name.substring(6) : name;
        if (MATMUL.contains(op) || op.startsWith("mkldnn_") && op.contains("conv")) {
            return "matmul";
        }
        if (SOFTMAX.contains(op)) {
            return "softmax";
        }
        if (NORM_ACTIVATION.contains(op)) {
            return "norm_activation";
        }
        if (COPY_RESHAPE.contains(op)) {
            return "copy_reshape";
        }
        if (ELEMENTWISE.contains(op)) {
            return "elementwise";
        }
        return "other";
    }
}
