package org.peft4j.serve;

import me.tongfei.progressbar.ProgressBar;
import org.peft4j.io.Json;
import org.peft4j.train.Progress;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A closed-loop load generator for {@code peft4j serve}: {@code concurrency} clients each send one
 * {@code POST /v1/predict} at a time until {@code requests} have been sent or the time is up. The
 * adapter of request i is drawn, seeded, from a uniform or Zipf (s = 1, the first name most often)
 * distribution over the names; its image cycles through the given ones. Loopback servers only: it is
 * a benchmark, not a tool to load someone else's machine.
 */
public final class LoadTest {

    /** What to send; {@code adapters} may hold null for the base model. */
    public record Plan(URI url, List<String> adapters, int concurrency, int requests, boolean zipf, List<byte[]> images,
                       Duration limit, String token, long seed) {
        public Plan {
            if (concurrency < 1 || concurrency > 1024 || requests < 1 || requests > 10_000_000 || adapters.isEmpty()
                    || images.isEmpty()) {
                throw new IllegalArgumentException("concurrency must be 1..1024, requests 1..10,000,000, with at least one adapter "
                        + "and one image");
            }
        }
    }

    private LoadTest() {}

    /** Refuses a URL whose host is not a loopback address (every address it resolves to). */
    public static URI loopback(String url) {
        URI uri;
        try {
            uri = URI.create(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--url " + url + ": not a URL");
        }
        if (!"http".equals(uri.getScheme()) || uri.getHost() == null) {
            throw new IllegalArgumentException("--url " + url + ": expected http://HOST:PORT");
        }
        try {
            for (InetAddress a : InetAddress.getAllByName(uri.getHost())) {
                if (!a.isLoopbackAddress()) {
                    throw new IllegalArgumentException("--url " + url + ": " + uri.getHost() + " is not a loopback address; "
                            + "loadtest only targets a server on this machine");
                }
            }
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException("--url " + url + ": unknown host " + uri.getHost());
        }
        return uri;
    }

    /** {@code count} distinct PNG images, deterministic from {@code seed}: shapes in random colours on noise. */
    public static List<byte[]> generatedImages(int count, int size, long seed) throws IOException {
        Random r = new Random(seed);
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            BufferedImage img = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) {
                    img.setRGB(x, y, r.nextInt(64) * 0x010101);
                }
            }
            Graphics2D g = img.createGraphics();
            g.setColor(new Color(r.nextInt(1 << 24)));
            int w = size / 4 + r.nextInt(size / 2);
            int x = r.nextInt(size - w);
            int y = r.nextInt(size - w);
            if (r.nextBoolean()) {
                g.fillOval(x, y, w, w);
            } else {
                g.fillRect(x, y, w, w);
            }
            g.dispose();
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            ImageIO.write(img, "png", bytes);
            out.add(bytes.toByteArray());
        }
        return out;
    }

    private static java.util.concurrent.ThreadFactory daemon() {
        return task -> {
            Thread t = new Thread(task, "peft4j-loadtest");
            t.setDaemon(true);
            return t;
        };
    }

    /** Which adapter each request uses, seeded. */
    static int[] draw(int requests, int adapters, boolean zipf, long seed) {
        double[] cumulative = new double[adapters];
        double total = 0;
        for (int k = 0; k < adapters; k++) {
            total += zipf ? 1.0 / (k + 1) : 1.0;
            cumulative[k] = total;
        }
        Random r = new Random(seed);
        int[] out = new int[requests];
        for (int i = 0; i < requests; i++) {
            int k = Arrays.binarySearch(cumulative, r.nextDouble() * total);
            out[i] = Math.min(adapters - 1, k >= 0 ? k : -k - 1);
        }
        return out;
    }

    /** Runs the plan; the result is what {@code peft4j loadtest} prints and writes. */
    public static Map<String, Object> run(Plan plan) throws InterruptedException {
        int[] adapterOf = draw(plan.requests(), plan.adapters().size(), plan.zipf(), plan.seed());
        List<String> encoded = new ArrayList<>();
        plan.images().forEach(b -> encoded.add(Base64.getEncoder().encodeToString(b)));
        ExecutorService io = Executors.newFixedThreadPool(4, daemon());
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10))
                .executor(io).build();
        long[] latencyNanos = new long[plan.requests()];
        String[] status = new String[plan.requests()];
        AtomicInteger next = new AtomicInteger();
        long start = System.nanoTime();
        long deadline = start + plan.limit().toNanos();
        ExecutorService clients = Executors.newFixedThreadPool(plan.concurrency(), daemon());
        try (ProgressBar bar = Progress.bar("loadtest", plan.requests())) {
            for (int c = 0; c < plan.concurrency(); c++) {
                clients.execute(() -> {
                    for (int i = next.getAndIncrement(); i < plan.requests() && System.nanoTime() < deadline; i = next.getAndIncrement()) {
                        String adapter = plan.adapters().get(adapterOf[i]);
                        Map<String, Object> body = new LinkedHashMap<>();
                        body.put("adapter", adapter);
                        body.put("image", encoded.get(i % encoded.size()));
                        body.put("top_k", 1);
                        long t0 = System.nanoTime();
                        try {
                            HttpRequest.Builder req = HttpRequest.newBuilder(plan.url().resolve("/v1/predict"))
                                    .timeout(Duration.ofSeconds(120)).header("Content-Type", "application/json")
                                    .POST(HttpRequest.BodyPublishers.ofString(Json.MAPPER.writeValueAsString(body)));
                            if (plan.token() != null) {
                                req.header("Authorization", "Bearer " + plan.token());
                            }
                            status[i] = Integer.toString(http.send(req.build(), HttpResponse.BodyHandlers.discarding()).statusCode());
                        } catch (IOException e) {
                            status[i] = "connection";
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            status[i] = "interrupted";
                            return;
                        }
                        latencyNanos[i] = System.nanoTime() - t0;
                        bar.step();
                    }
                });
            }
            clients.shutdown();
            if (!clients.awaitTermination(plan.limit().toSeconds() + 150, TimeUnit.SECONDS)) {
                clients.shutdownNow();
            }
        } finally {
            io.shutdownNow();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return summary(plan, adapterOf, status, latencyNanos, seconds);
    }

    private static Map<String, Object> summary(Plan plan, int[] adapterOf, String[] status, long[] latencyNanos, double seconds) {
        Map<String, Long> byStatus = new TreeMap<>();
        Map<String, Long> byAdapter = new TreeMap<>();
        List<Long> ok = new ArrayList<>();
        int sent = 0;
        for (int i = 0; i < status.length; i++) {
            if (status[i] == null) {
                continue; // never sent: the time limit came first
            }
            sent++;
            byStatus.merge(status[i], 1L, Long::sum);
            String a = plan.adapters().get(adapterOf[i]);
            byAdapter.merge(a == null ? "(base)" : a, 1L, Long::sum);
            if (status[i].equals("200")) {
                ok.add(latencyNanos[i]);
            }
        }
        ok.sort(null);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("url", plan.url().toString());
        out.put("adapters", plan.adapters().size());
        out.put("distribution", plan.zipf() ? "zipf" : "uniform");
        out.put("concurrency", plan.concurrency());
        out.put("requests", plan.requests());
        out.put("sent", sent);
        out.put("succeeded", ok.size());
        out.put("seconds", round(seconds));
        out.put("throughput_rps", round(ok.size() / seconds));
        Map<String, Double> latency = new LinkedHashMap<>();
        latency.put("p50", percentile(ok, 0.50));
        latency.put("p95", percentile(ok, 0.95));
        latency.put("p99", percentile(ok, 0.99));
        latency.put("max", ok.isEmpty() ? 0 : round(ok.get(ok.size() - 1) / 1e6));
        out.put("latency_ms", latency);
        Map<String, Long> errors = new TreeMap<>(byStatus);
        errors.remove("200");
        out.put("errors_by_status", errors);
        out.put("requests_by_adapter", byAdapter);
        return out;
    }

    /** Nearest-rank percentile in milliseconds. */
    private static double percentile(List<Long> sorted, double q) {
        if (sorted.isEmpty()) {
            return 0;
        }
        int rank = (int) Math.ceil(q * sorted.size());
        return round(sorted.get(Math.max(0, rank - 1)) / 1e6);
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }

    /** The summary as a few lines for a person. */
    public static String table(Map<String, Object> s) {
        @SuppressWarnings("unchecked")
        Map<String, Object> lat = (Map<String, Object>) s.get("latency_ms");
        return String.format(Locale.ROOT, "| requests | ok | seconds | throughput (req/s) | p50 ms | p95 ms | p99 ms | errors by status |%n"
                        + "|---|---|---|---|---|---|---|---|%n| %s | %s | %s | %s | %s | %s | %s | %s |",
                s.get("sent"), s.get("succeeded"), s.get("seconds"), s.get("throughput_rps"), lat.get("p50"), lat.get("p95"),
                lat.get("p99"), s.get("errors_by_status"));
    }
}
