package org.peft4j.serve;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.IntSupplier;

/**
 * The server's Prometheus metrics (official Java client, one registry per server): requests by
 * route, adapter and status, latency and batch-size histograms, queue depth, adapter cache hits,
 * loads, evictions and bytes, resident memory.
 */
final class ServerMetrics {

    static final String CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter requests;
    private final Histogram latency;
    private final Histogram batchSize;
    private final Counter cacheHits;
    private final Counter cacheLoads;
    private final Counter cacheEvictions;
    private final Gauge cacheBytes;

    ServerMetrics(IntSupplier queueDepth) {
        requests = Counter.builder().name("peft4j_requests_total").help("HTTP requests by route, adapter and status")
                .labelNames("route", "adapter", "status").register(registry);
        latency = Histogram.builder().name("peft4j_request_duration_seconds").help("Request latency by route")
                .labelNames("route").register(registry);
        batchSize = Histogram.builder().name("peft4j_batch_size").help("Rows per mixed-adapter batch")
                .classicUpperBounds(1, 2, 4, 8, 16, 32, 64, 128, 256).register(registry);
        cacheHits = Counter.builder().name("peft4j_adapter_cache_hits_total")
                .help("Requests whose adapter was already loaded").register(registry);
        cacheLoads = Counter.builder().name("peft4j_adapter_cache_loads_total")
                .help("Adapters loaded on demand from --adapter-dir").register(registry);
        cacheEvictions = Counter.builder().name("peft4j_adapter_cache_evictions_total")
                .help("Adapters evicted to keep the cache within --adapter-cache-mb").register(registry);
        cacheBytes = Gauge.builder().name("peft4j_adapter_cache_bytes")
                .help("Bytes of the adapters loaded on demand (pinned ones not counted)").register(registry);
        GaugeWithCallback.builder().name("peft4j_queue_depth").help("Predictions waiting for a batch")
                .callback(cb -> cb.call(queueDepth.getAsInt())).register(registry);
        GaugeWithCallback.builder().name("peft4j_resident_memory_bytes").help("Resident memory of the process (VmRSS)")
                .callback(cb -> cb.call(residentBytes())).register(registry);
    }

    void request(String route, String adapter, int status, double seconds) {
        requests.labelValues(route, adapter == null ? "" : adapter, Integer.toString(status)).inc();
        latency.labelValues(route).observe(seconds);
    }

    void batch(int rows) {
        batchSize.observe(rows);
    }

    void cacheHit() {
        cacheHits.inc();
    }

    void cacheLoad() {
        cacheLoads.inc();
    }

    void cacheEviction() {
        cacheEvictions.inc();
    }

    void cacheBytes(long bytes) {
        cacheBytes.set(bytes);
    }

    /** The registry in Prometheus' text format. */
    String scrape() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new PrometheusTextFormatWriter(false).write(out, registry.scrape());
        return out.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    private static double residentBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Double.parseDouble(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: no figure
        }
        return Double.NaN;
    }
}
