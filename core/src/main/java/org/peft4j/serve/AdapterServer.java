package org.peft4j.serve;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.json.JavalinJackson;
import org.peft4j.data.DataException;
import org.peft4j.data.ImageFolder;
import org.peft4j.data.ImageTransform;
import org.peft4j.data.RawImage;
import org.peft4j.io.Json;
import org.peft4j.models.sam.SamModel;
import org.peft4j.models.sam.SamPredictor;
import org.peft4j.peft.PeftModel;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
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
 * One frozen base model, any number of adapters, one HTTP API (Javalin). A classifier (ViT) serves
 * {@code POST /v1/predict}, and predictions for different adapters share mixed batches
 * ({@link MixedBatcher}, {@link Inference}); SAM serves {@code POST /v1/segment}. Adapters are pinned
 * (given at start or loaded through the API) or loaded on demand from {@code --adapter-dir} into an
 * LRU cache ({@link AdapterCache}). Errors are JSON {@code {"error": ...}}: 400 for a bad body,
 * image or adapter file, 404 for an unknown adapter, 413 over the body limit, 503 when the queue is
 * full, 401 without the token when one is set; bad input never gives a 500.
 */
public final class AdapterServer implements AutoCloseable {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(AdapterServer.class);

    /**
     * Where and how to serve. {@code token}: required bearer token, or null for none; {@code adapterDir}:
     * the only folder adapters load from at run time (null: none); {@code adapterCacheBytes}: the budget
     * of the adapters loaded on demand; {@code perAdapter}: one pass per adapter instead of mixed batches.
     */
    public record Options(String host, int port, int maxBatch, int maxWaitMs, int queue, long maxBodyBytes, String token,
                          Path adapterDir, long adapterCacheBytes, boolean perAdapter) {
        public Options {
            if (maxBatch < 1 || maxWaitMs < 0 || queue < 1 || maxBodyBytes < 1 || adapterCacheBytes < 0) {
                throw new IllegalArgumentException("--max-batch, --queue and the body limit must be positive, "
                        + "--max-wait-ms and --adapter-cache-mb >= 0");
            }
        }

        /** Defaults as {@code peft4j serve}'s, on {@code host:port}. */
        public static Options defaults(String host, int port) {
            return new Options(host, port, 32, 5, 256, 20L << 20, null, null, 512L << 20, false);
        }

        public Options withBatching(int maxBatch, int maxWaitMs, int queue) {
            return new Options(host, port, maxBatch, maxWaitMs, queue, maxBodyBytes, token, adapterDir, adapterCacheBytes, perAdapter);
        }

        public Options withLimits(long maxBodyBytes, String token) {
            return new Options(host, port, maxBatch, maxWaitMs, queue, maxBodyBytes, token, adapterDir, adapterCacheBytes, perAdapter);
        }

        public Options withAdapterDir(Path adapterDir, long adapterCacheBytes) {
            return new Options(host, port, maxBatch, maxWaitMs, queue, maxBodyBytes, token, adapterDir, adapterCacheBytes, perAdapter);
        }

        public Options withPerAdapter(boolean perAdapter) {
            return new Options(host, port, maxBatch, maxWaitMs, queue, maxBodyBytes, token, adapterDir, adapterCacheBytes, perAdapter);
        }
    }

    private final PeftModel peft;
    private final boolean segmenter;
    private final MixedBatcher batcher;
    private final AdapterCache cache;
    private final Options options;
    private final Javalin app;
    private final ServerMetrics metrics;
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong batches = new AtomicLong();
    private final AtomicLong batchedRows = new AtomicLong();

    /**
     * Serves {@code peft}: a ViT classifier with {@code labels} (its head's classes) and
     * {@code transform}, or SAM ({@code labels} and {@code transform} null). Adapters already in
     * {@code peft} are pinned, with the base's labels; {@link #pin} adds more.
     */
    public AdapterServer(PeftModel peft, List<String> labels, ImageTransform transform, NDManager manager, Options options)
            throws IOException {
        this.peft = peft;
        this.segmenter = peft.base() instanceof SamModel;
        if (!segmenter && (labels == null || transform == null)) {
            throw new IllegalArgumentException("a classifier is served with its labels and input transform");
        }
        this.options = options;
        MixedBatcher[] ref = new MixedBatcher[1];
        metrics = new ServerMetrics(() -> ref[0] == null ? 0 : ref[0].depth());
        cache = new AdapterCache(peft, options.adapterDir(), options.adapterCacheBytes(), segmenter ? null : labels, metrics);
        for (String name : peft.adapterNames()) {
            cache.pinLoaded(name, null);
        }
        Inference inference = new Inference(peft, cache, transform, manager,
                options.perAdapter() ? Inference.Batching.PER_ADAPTER : Inference.Batching.MIXED, n -> {
                    batches.incrementAndGet();
                    batchedRows.addAndGet(n);
                    metrics.batch(n);
                });
        batcher = new MixedBatcher(options.maxBatch(), options.maxWaitMs(), options.queue(), inference::run);
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
        app.get("/health", ctx -> ctx.json(Map.of("status", "ok", "task", segmenter ? "segmentation" : "classification")));
        app.get("/v1/adapters", ctx -> ctx.json(cache.listing()));
        app.post("/v1/predict", this::predict);
        app.post("/v1/segment", this::segment);
        app.post("/v1/adapters", this::loadAdapter);
        app.delete("/v1/adapters/{name}", ctx -> {
            cache.delete(ctx.pathParam("name"));
            ctx.json(Map.of("deleted", ctx.pathParam("name"), "adapters", cache.listing().get("adapters")));
        });
        app.exception(HttpResponseException.class, (e, ctx) -> error(ctx, e.getStatus(), e.getMessage()));
        app.exception(ApiError.class, (e, ctx) -> error(ctx, e.status, e.getMessage()));
        app.exception(Exception.class, (e, ctx) -> {
            LOG.error("{} {} failed", ctx.method(), ctx.path(), e);
            error(ctx, 500, "internal error: " + e.getClass().getSimpleName());
        });
        app.error(404, ctx -> {
            if (ctx.result() == null || ctx.result().isEmpty() || !ctx.result().startsWith("{")) {
                error(ctx, 404, "no route " + ctx.method() + " " + ctx.path());
            }
        });
    }

    /**
     * Loads adapter folder {@code dir} as {@code name}, pinned (the command line's adapters).
     *
     * @throws IllegalArgumentException naming what is wrong: a broken folder, a head of another size,
     *                                  an adapter that trains the base in place, a taken name
     */
    public void pin(String name, Path dir) {
        try {
            cache.pin(name, dir);
        } catch (ApiError e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /** Starts listening; returns the base URL ({@code port} 0 picks a free port). */
    public String start() {
        app.start(options.host(), options.port());
        return "http://" + options.host() + ":" + app.port();
    }

    private static void error(Context ctx, int status, String message) {
        ctx.status(status).json(Map.of("error", message == null ? "error" : message));
    }

    private void authorise(Context ctx) {
        if (options.token() != null && !ctx.path().equals("/health")) {
            String header = ctx.header("Authorization");
            if (header == null || !java.security.MessageDigest.isEqual(header.getBytes(StandardCharsets.UTF_8),
                    ("Bearer " + options.token()).getBytes(StandardCharsets.UTF_8))) {
                throw new ApiError(401, "missing or wrong bearer token");
            }
        }
    }

    /** The request's fields: JSON {@code {"image": BASE64, ...}}, or multipart/form-data with an {@code image} file part. */
    private record Body(byte[] image, String adapter, JsonNode fields) {
        String text(String name) {
            JsonNode n = fields.get(name);
            return n == null || n.isNull() ? null : n.asText();
        }
    }

    private static Body body(Context ctx, String example) {
        String contentType = ctx.contentType() == null ? "" : ctx.contentType();
        if (contentType.startsWith("multipart/form-data")) { // the web page's upload: an image part and text fields
            io.javalin.http.UploadedFile file = ctx.uploadedFile("image");
            if (file == null) {
                throw new ApiError(400, "the form has no 'image' file part");
            }
            com.fasterxml.jackson.databind.node.ObjectNode fields = Json.MAPPER.createObjectNode();
            ctx.formParamMap().forEach((k, v) -> {
                if (!v.isEmpty()) {
                    fields.put(k, v.get(0));
                }
            });
            String a = fields.path("adapter").asText("");
            try {
                return new Body(file.content().readAllBytes(), a.isBlank() ? null : a, fields);
            } catch (IOException e) {
                throw new ApiError(400, "cannot read the 'image' part: " + e.getMessage());
            }
        }
        JsonNode json;
        try {
            json = Json.MAPPER.readTree(ctx.bodyAsBytes()); // over the limit: Javalin refuses with 413
        } catch (IOException e) {
            throw new ApiError(400, "the body is not JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (json == null || !json.isObject()) {
            throw new ApiError(400, "the body must be a JSON object " + example);
        }
        if (!json.path("image").isTextual()) {
            throw new ApiError(400, "'image' must be a base64 string of a PNG or JPEG file");
        }
        byte[] image;
        try {
            image = Base64.getMimeDecoder().decode(json.get("image").asText());
        } catch (IllegalArgumentException e) {
            throw new ApiError(400, "'image' is not valid base64: " + e.getMessage());
        }
        JsonNode a = json.get("adapter");
        if (a != null && !a.isNull() && !a.isTextual()) {
            throw new ApiError(400, "'adapter' must be a name or null");
        }
        return new Body(image, a == null || a.isNull() ? null : a.asText(), json);
    }

    /** The adapter a request names: known (loaded or loadable from --adapter-dir), else 404. */
    private void requireServable(Context ctx, String adapter) {
        if (adapter != null && !cache.servable(adapter)) {
            throw new ApiError(404, "no adapter '" + adapter + "'; loaded: " + cache.listing().get("adapters"));
        }
        ctx.attribute("adapter", adapter); // only known names become metric labels
    }

    private static RawImage image(Body body) {
        try {
            return ImageFolder.decode(body.image(), "in the request");
        } catch (DataException e) {
            throw new ApiError(400, e.getMessage());
        }
    }

    private <T> T submit(MixedBatcher.Job job, java.util.concurrent.CompletableFuture<T> answer) throws Exception {
        requests.incrementAndGet();
        if (!batcher.offer(job)) {
            throw new ApiError(503, "the queue is full (" + options.queue() + " requests); retry later");
        }
        try {
            return answer.get(120, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof ApiError api ? api : e;
        }
    }

    private void predict(Context ctx) throws Exception {
        if (segmenter) {
            throw new ApiError(400, "this server's model is SAM: POST /v1/segment with points or boxes");
        }
        Body body = body(ctx, "{\"adapter\": NAME or null, \"image\": BASE64, \"top_k\": 5}");
        int topK = parseTopK(body.text("top_k"));
        requireServable(ctx, body.adapter());
        RawImage image = image(body);
        CompletableFuture<float[]> answer = new CompletableFuture<>();
        float[] logits = submit(new MixedBatcher.Classify(image, body.adapter(), answer), answer);
        ctx.json(answer(body.adapter(), logits, topK));
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
        double[] probabilities = org.peft4j.eval.Metrics.softmax(logits, 0, logits.length);
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < logits.length; i++) {
            order.add(i);
        }
        order.sort(Comparator.comparingDouble((Integer i) -> -logits[i]).thenComparingInt(i -> i));
        List<String> labels = cache.labels(adapter);
        List<Map<String, Object>> top = new ArrayList<>();
        for (int i : order.subList(0, Math.min(topK, order.size()))) {
            top.add(Map.of("label", i < labels.size() ? labels.get(i) : "LABEL_" + i, "score", probabilities[i]));
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("adapter", adapter);
        out.put("top", top);
        out.put("logits", logits);
        return out;
    }

    /**
     * {@code {"adapter":..., "image": BASE64, "points": [[x, y(, label)], ...], "boxes": [[x0, y0, x1, y1], ...],
     * "multimask": false}} in image pixels: one prediction per box (each with the points), or one from the
     * points alone; each mask comes back as a base64 PNG (white inside) with SAM's IoU estimate.
     */
    private void segment(Context ctx) throws Exception {
        if (!segmenter) {
            throw new ApiError(400, "this server's model is a classifier: POST /v1/predict");
        }
        Body body = body(ctx, "{\"adapter\": NAME or null, \"image\": BASE64, \"points\": [[x, y, label]], \"boxes\": [[x0, y0, x1, y1]]}");
        JsonNode points = field(body, "points");
        JsonNode boxes = field(body, "boxes");
        if (points.isEmpty() && boxes.isEmpty()) {
            throw new ApiError(400, "give at least one prompt: \"points\": [[x, y(, label)]] or \"boxes\": [[x0, y0, x1, y1]]");
        }
        boolean multimask = Boolean.parseBoolean(body.text("multimask"));
        requireServable(ctx, body.adapter());
        RawImage image = image(body);
        float[][] xy = new float[points.size()][];
        int[] labels = new int[points.size()];
        for (int i = 0; i < points.size(); i++) {
            String what = "points[" + i + "]";
            float[] v = numbers(what, points.get(i), 2, 3);
            check(() -> SamPredictor.checkPoint(what, v[0], v[1], v.length == 3 ? v[2] : 1, image.width(), image.height()));
            xy[i] = new float[] {v[0], v[1]};
            labels[i] = v.length == 3 ? (int) v[2] : 1;
        }
        List<MixedBatcher.Prompt> prompts = new ArrayList<>();
        for (int i = 0; i < boxes.size(); i++) {
            String what = "boxes[" + i + "]";
            float[] b = numbers(what, boxes.get(i), 4, 4);
            check(() -> SamPredictor.checkBox(what, b, image.width(), image.height()));
            prompts.add(new MixedBatcher.Prompt(xy.length == 0 ? null : xy, labels, b));
        }
        if (prompts.isEmpty()) {
            prompts.add(new MixedBatcher.Prompt(xy, labels, null));
        }
        if (prompts.size() > 64) {
            throw new ApiError(400, "at most 64 boxes per request, got " + prompts.size());
        }
        CompletableFuture<List<Inference.Masks>> answer = new CompletableFuture<>();
        List<Inference.Masks> result = submit(new MixedBatcher.Segment(image, body.adapter(), prompts, multimask, answer), answer);
        List<Map<String, Object>> masks = new ArrayList<>();
        for (int p = 0; p < result.size(); p++) {
            Inference.Masks m = result.get(p);
            for (int k = 0; k < m.count(); k++) {
                masks.add(mask(p, k, m));
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("adapter", body.adapter());
        out.put("width", image.width());
        out.put("height", image.height());
        out.put("masks", masks);
        ctx.json(out);
    }

    /** A JSON array field (JSON body) or a form field holding one (multipart); empty when absent. */
    private static JsonNode field(Body body, String name) {
        JsonNode n = body.fields().get(name);
        if (n != null && n.isTextual()) { // a form field: JSON text
            try {
                n = Json.MAPPER.readTree(n.asText());
            } catch (IOException e) {
                throw new ApiError(400, "'" + name + "' is not JSON: " + n.asText());
            }
        }
        if (n == null || n.isNull()) {
            return Json.MAPPER.createArrayNode();
        }
        if (!n.isArray()) {
            throw new ApiError(400, "'" + name + "' must be an array of arrays of numbers");
        }
        if (n.size() > 64) {
            throw new ApiError(400, "at most 64 " + name + " per request, got " + n.size());
        }
        return n;
    }

    private static float[] numbers(String what, JsonNode n, int min, int max) {
        if (!n.isArray() || n.size() < min || n.size() > max) {
            throw new ApiError(400, what + ": expected " + (min == max ? "" + min : min + " or " + max) + " numbers, got " + n);
        }
        float[] v = new float[n.size()];
        for (int i = 0; i < v.length; i++) {
            if (!n.get(i).isNumber() || !Float.isFinite(n.get(i).floatValue())) {
                throw new ApiError(400, what + ": '" + n.get(i) + "' is not a finite number");
            }
            v[i] = n.get(i).floatValue();
        }
        return v;
    }

    private static void check(Runnable check) {
        try {
            check.run();
        } catch (IllegalArgumentException e) {
            throw new ApiError(400, e.getMessage());
        }
    }

    private static Map<String, Object> mask(int prompt, int k, Inference.Masks m) throws IOException {
        int h = m.height();
        int w = m.width();
        java.awt.image.BufferedImage png = new java.awt.image.BufferedImage(w, h, java.awt.image.BufferedImage.TYPE_BYTE_GRAY);
        byte[] pixels = ((java.awt.image.DataBufferByte) png.getRaster().getDataBuffer()).getData();
        long area = 0;
        for (int i = 0; i < h * w; i++) {
            if (m.logits()[k * h * w + i] > 0f) { // SAM's mask threshold
                pixels[i] = (byte) 255;
                area++;
            }
        }
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        javax.imageio.ImageIO.write(png, "png", bytes);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("prompt", prompt);
        out.put("mask", k);
        out.put("iou", (double) m.iou()[k]);
        out.put("area", area);
        out.put("fraction", (double) area / ((long) w * h));
        out.put("png", Base64.getEncoder().encodeToString(bytes.toByteArray()));
        return out;
    }

    /** {@code {"name": ..., "path": ...}}: loads an adapter from inside {@code --adapter-dir}, pinned. */
    private void loadAdapter(Context ctx) {
        JsonNode json;
        try {
            json = Json.MAPPER.readTree(ctx.bodyAsBytes());
        } catch (IOException e) {
            throw new ApiError(400, "the body is not JSON");
        }
        if (json == null || !json.path("name").isTextual() || !json.path("path").isTextual()) {
            throw new ApiError(400, "the body must be {\"name\": NAME, \"path\": PATH inside --adapter-dir}");
        }
        String name = json.get("name").asText();
        cache.loadPinned(name, json.get("path").asText());
        ctx.status(201).json(Map.of("loaded", name, "adapters", cache.listing().get("adapters")));
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
