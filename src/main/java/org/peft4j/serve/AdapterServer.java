package org.peft4j.serve;

import ai.djl.ndarray.NDManager;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.json.JavalinJackson;
import org.peft4j.data.DataException;
import org.peft4j.data.ImageTransform;
import org.peft4j.data.RawImage;
import org.peft4j.data.ImageFolder;
import org.peft4j.io.Json;
import org.peft4j.peft.PeftModel;
import org.peft4j.tuners.lora.LoraConfig;

import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One frozen base model, any number of LoRA-family adapters, one HTTP API (Javalin): predictions
 * for different adapters share mixed batches ({@link MixedBatcher}). Errors are JSON
 * {@code {"error": ...}}: 400 for a bad body or image, 404 for an unknown adapter, 413 over the body
 * limit, 503 when the queue is full, 401 without the token when one is set; bad input never gives a
 * 500.
 */
public final class AdapterServer implements AutoCloseable {

    /** Where and how to serve. {@code token}: required bearer token, or null for none. */
    /**
     * Where and how to serve. {@code token}: required bearer token, or null for none; {@code adapterDir}:
     * the only folder {@code POST /v1/adapters} loads from (null: loading at run time is off).
     */
    public record Options(String host, int port, int maxBatch, int maxWaitMs, int queue, long maxBodyBytes, String token,
                          java.nio.file.Path adapterDir) {
        public Options {
            if (maxBatch < 1 || maxWaitMs < 0 || queue < 1 || maxBodyBytes < 1) {
                throw new IllegalArgumentException("--max-batch, --queue and the body limit must be positive, --max-wait-ms >= 0");
            }
        }
    }

    private final PeftModel peft;
    private final List<String> baseLabels;
    private final Map<String, List<String>> adapterLabels;
    private final int headSize;
    private final MixedBatcher batcher;
    private final Options options;
    private final Javalin app;
    private final ServerMetrics metrics;
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong batches = new AtomicLong();
    private final AtomicLong batchedRows = new AtomicLong();

    /** {@code adapterLabels}: each adapter's class names (its head's), {@code baseLabels} the base model's. */
    public AdapterServer(PeftModel peft, List<String> baseLabels, Map<String, List<String>> adapterLabels, ImageTransform transform,
                         NDManager manager, Options options) {
        this.peft = peft;
        this.baseLabels = List.copyOf(baseLabels);
        this.adapterLabels = new java.util.concurrent.ConcurrentHashMap<>(adapterLabels);
        this.headSize = baseLabels.size();
        this.options = options;
        for (String name : peft.adapterNames()) {
            if (!(peft.config(name) instanceof LoraConfig)) {
                throw new IllegalArgumentException("adapter '" + name + "' (" + peft.config(name).peftType()
                        + ") cannot be served in mixed batches: only the LoRA family (LoRA, DoRA, rsLoRA, PiSSA)");
            }
        }
        MixedBatcher[] ref = new MixedBatcher[1];
        metrics = new ServerMetrics(() -> ref[0] == null ? 0 : ref[0].depth());
        batcher = new MixedBatcher(peft, transform, manager, options.maxBatch(), options.maxWaitMs(), options.queue(), n -> {
            batches.incrementAndGet();
            batchedRows.addAndGet(n);
            metrics.batch(n);
        });
        ref[0] = batcher;
        app = Javalin.create(config -> {
            config.showJavalinBanner = false;
            config.http.maxRequestSize = options.maxBodyBytes();
            config.jetty.multipartConfig.maxFileSize(options.maxBodyBytes(), io.javalin.config.SizeUnit.BYTES);
            config.jetty.multipartConfig.maxTotalRequestSize(options.maxBodyBytes(), io.javalin.config.SizeUnit.BYTES);
            config.staticFiles.add(files -> {
                files.hostedPath = "/";
                files.directory = "/org/peft4j/serve/web"; // the page, from the jar: no build step
                files.location = io.javalin.http.staticfiles.Location.CLASSPATH;
            });
            config.jsonMapper(new JavalinJackson(Json.MAPPER, false));
        });
        app.before(ctx -> ctx.attribute("t0", System.nanoTime()));
        app.before(this::authorise);
        app.after(ctx -> {
            Long t0 = ctx.attribute("t0");
            metrics.request(ctx.endpointHandlerPath(), ctx.attribute("adapter"), ctx.statusCode(),
                    t0 == null ? 0 : (System.nanoTime() - t0) / 1e9);
        });
        app.get("/metrics", ctx -> ctx.contentType(ServerMetrics.CONTENT_TYPE).result(metrics.scrape()));
        app.get("/health", ctx -> ctx.json(Map.of("status", "ok")));
        app.get("/v1/adapters", ctx -> ctx.json(Map.of("adapters", new ArrayList<>(peft.adapterNames()))));
        app.post("/v1/predict", this::predict);
        app.post("/v1/adapters", this::loadAdapter);
        app.delete("/v1/adapters/{name}", this::deleteAdapter);
        app.exception(HttpResponseException.class, (e, ctx) -> error(ctx, e.getStatus(), e.getMessage()));
        app.exception(ApiError.class, (e, ctx) -> error(ctx, e.status, e.getMessage()));
        app.exception(Exception.class, (e, ctx) -> error(ctx, 500, "internal error: " + e.getClass().getSimpleName()));
        app.error(404, ctx -> {
            if (ctx.result() == null || ctx.result().isEmpty() || !ctx.result().startsWith("{")) {
                error(ctx, 404, "no route " + ctx.method() + " " + ctx.path());
            }
        });
    }

    /** Starts listening; returns the base URL ({@code port} 0 picks a free port). */
    public String start() {
        app.start(options.host(), options.port());
        return "http://" + options.host() + ":" + app.port();
    }

    private static final class ApiError extends RuntimeException {
        final int status;

        ApiError(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    private static void error(Context ctx, int status, String message) {
        ctx.status(status).json(Map.of("error", message == null ? "error" : message));
    }

    private void authorise(Context ctx) {
        if (options.token() != null && !ctx.path().equals("/health")) {
            String header = ctx.header("Authorization");
            if (header == null || !java.security.MessageDigest.isEqual(header.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    ("Bearer " + options.token()).getBytes(java.nio.charset.StandardCharsets.UTF_8))) {
                throw new ApiError(401, "missing or wrong bearer token");
            }
        }
    }

    private void predict(Context ctx) throws Exception {
        requests.incrementAndGet();
        String adapter;
        int topK;
        byte[] encoded;
        String contentType = ctx.contentType() == null ? "" : ctx.contentType();
        if (contentType.startsWith("multipart/form-data")) { // the web page's upload: image, adapter, top_k parts
            io.javalin.http.UploadedFile file = ctx.uploadedFile("image");
            if (file == null) {
                throw new ApiError(400, "the form has no 'image' file part");
            }
            encoded = file.content().readAllBytes();
            String a = ctx.formParam("adapter");
            adapter = a == null || a.isBlank() ? null : a;
            topK = parseTopK(ctx.formParam("top_k"));
        } else {
            byte[] body = ctx.bodyAsBytes(); // over the limit: Javalin refuses with 413
            com.fasterxml.jackson.databind.JsonNode json;
            try {
                json = Json.MAPPER.readTree(body);
            } catch (java.io.IOException e) {
                throw new ApiError(400, "the body is not JSON: " + e.getMessage().lines().findFirst().orElse(""));
            }
            if (json == null || !json.isObject()) {
                throw new ApiError(400, "the body must be a JSON object {\"adapter\":..., \"image\": BASE64, \"top_k\": 5}");
            }
            adapter = json.hasNonNull("adapter") ? json.get("adapter").asText() : null;
            if (!json.path("image").isTextual()) {
                throw new ApiError(400, "'image' must be a base64 string of a PNG or JPEG file");
            }
            topK = json.has("top_k") ? parseTopK(json.get("top_k").asText()) : 5;
            try {
                encoded = Base64.getMimeDecoder().decode(json.get("image").asText());
            } catch (IllegalArgumentException e) {
                throw new ApiError(400, "'image' is not valid base64: " + e.getMessage());
            }
        }
        ctx.attribute("adapter", adapter);
        boolean known;
        synchronized (peft) {
            known = adapter == null || peft.adapterNames().contains(adapter);
        }
        if (!known) {
            throw new ApiError(404, "no adapter '" + adapter + "'; adapters: " + peft.adapterNames());
        }
        RawImage image;
        try {
            image = ImageFolder.decode(encoded, "in the request");
        } catch (DataException e) {
            throw new ApiError(400, e.getMessage());
        }
        CompletableFuture<float[]> result = new CompletableFuture<>();
        if (!batcher.offer(new MixedBatcher.Job(image, adapter, result))) {
            throw new ApiError(503, "the queue is full (" + options.queue() + " requests); retry later");
        }
        float[] logits = result.get(120, TimeUnit.SECONDS);
        ctx.json(answer(adapter, logits, topK));
    }

    private static int parseTopK(String value) {
        if (value == null || value.isBlank()) {
            return 5;
        }
        try {
            int k = Integer.parseInt(value.strip());
            if (k >= 1) {
                return k;
            }
        } catch (NumberFormatException e) {
            // falls through to the error
        }
        throw new ApiError(400, "'top_k' must be a positive integer, got '" + value + "'");
    }

    private Map<String, Object> answer(String adapter, float[] logits, int topK) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : logits) {
            sum += Math.exp(v - max);
        }
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < logits.length; i++) {
            order.add(i);
        }
        order.sort(Comparator.comparingDouble((Integer i) -> -logits[i]).thenComparingInt(i -> i));
        List<String> labels = adapter == null ? baseLabels : adapterLabels.getOrDefault(adapter, baseLabels);
        List<Map<String, Object>> top = new ArrayList<>();
        for (int i : order.subList(0, Math.min(topK, order.size()))) {
            top.add(Map.of("label", i < labels.size() ? labels.get(i) : "LABEL_" + i, "score", Math.exp(logits[i] - max) / sum));
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("adapter", adapter);
        out.put("top", top);
        out.put("logits", logits);
        return out;
    }

    /**
     * {@code {"name": ..., "path": ...}}: loads an adapter from inside {@code --adapter-dir} (no
     * {@code ..}, no symlink out of it; safetensors only). A failing load fails this request only.
     */
    private void loadAdapter(Context ctx) throws Exception {
        if (options.adapterDir() == null) {
            throw new ApiError(400, "loading adapters at run time needs --adapter-dir");
        }
        com.fasterxml.jackson.databind.JsonNode json;
        try {
            json = Json.MAPPER.readTree(ctx.bodyAsBytes());
        } catch (java.io.IOException e) {
            throw new ApiError(400, "the body is not JSON");
        }
        if (json == null || !json.path("name").isTextual() || !json.path("path").isTextual()) {
            throw new ApiError(400, "the body must be {\"name\": NAME, \"path\": PATH inside --adapter-dir}");
        }
        String name = json.get("name").asText();
        if (!name.matches("[A-Za-z0-9._-]{1,64}") || name.equals(org.peft4j.nn.AdapterRows.BASE)) {
            throw new ApiError(400, "adapter names are 1-64 letters, digits, '.', '_' or '-'");
        }
        java.nio.file.Path root = options.adapterDir().toRealPath();
        java.nio.file.Path dir = root.resolve(json.get("path").asText()).normalize();
        if (!dir.startsWith(root) || !java.nio.file.Files.isDirectory(dir)) {
            throw new ApiError(400, "path '" + json.get("path").asText() + "' is not an adapter folder inside --adapter-dir");
        }
        if (!dir.toRealPath().startsWith(root)) {
            throw new ApiError(400, "path '" + json.get("path").asText() + "' leads out of --adapter-dir through a link");
        }
        synchronized (peft) {
            if (peft.adapterNames().contains(name)) {
                throw new ApiError(409, "adapter '" + name + "' is already loaded");
            }
            List<String> labels;
            try {
                labels = org.peft4j.peft.AdapterLabels.read(dir);
                if (labels != null && labels.size() != headSize) {
                    throw new ApiError(400, "adapter '" + name + "' has a " + labels.size() + "-way head; this base serves "
                            + headSize + "-way heads");
                }
                List<String> active = peft.activeAdapters();
                peft.load(dir, name);
                peft.setActiveAdapters(active.toArray(String[]::new));
                if (!(peft.config(name) instanceof LoraConfig)) {
                    peft.deleteAdapter(name);
                    throw new ApiError(400, "adapter '" + name + "' is not of the LoRA family: it cannot share mixed batches");
                }
            } catch (java.io.IOException | IllegalArgumentException | IllegalStateException e) {
                throw new ApiError(400, "adapter '" + name + "' did not load: " + e.getMessage());
            }
            adapterLabels.put(name, labels != null ? labels : baseLabels);
        }
        ctx.status(201).json(Map.of("loaded", name, "adapters", new ArrayList<>(peft.adapterNames())));
    }

    private void deleteAdapter(Context ctx) {
        String name = ctx.pathParam("name");
        synchronized (peft) {
            if (!peft.adapterNames().contains(name)) {
                throw new ApiError(404, "no adapter '" + name + "'");
            }
            peft.deleteAdapter(name);
            adapterLabels.remove(name);
        }
        ctx.json(Map.of("deleted", name, "adapters", new ArrayList<>(peft.adapterNames())));
    }

    /** Requests answered, batches run and rows in them (mean batch size = rows / batches). */
    public Map<String, Long> counters() {
        return Map.of("requests", requests.get(), "batches", batches.get(), "batched_rows", batchedRows.get());
    }

    /** Drains: no new work, the queued requests finish, then the HTTP server stops. */
    @Override
    public void close() {
        batcher.close();
        app.stop();
    }
}
