package org.peft4j.cli;

import ai.djl.ndarray.NDManager;
import org.peft4j.io.Json;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.peft.AdapterLabels;
import org.peft4j.peft.PeftModel;
import org.peft4j.serve.AdapterServer;
import org.peft4j.train.FineTuning;
import org.peft4j.train.SamPretraining;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve one frozen base model and any number of adapters over HTTP. A ViT classifier answers "
                + "POST /v1/predict, and predictions for different LoRA-family adapters share mixed batches (one base pass, "
                + "each adapter's low-rank path on its rows; other methods run one pass per adapter); SAM answers POST /v1/segment.",
                "Prints {\"listening\":\"http://HOST:PORT\"} when ready; SIGTERM finishes the queued requests, then exits 0.",
                "API: GET / (a web page), GET /health, GET /metrics (Prometheus), GET /v1/adapters, "
                        + "POST /v1/adapters {\"name\":..., \"path\":...} (inside --adapter-dir), DELETE /v1/adapters/NAME, "
                        + "POST /v1/predict {\"adapter\": NAME or null, \"image\": BASE64, \"top_k\": 5}, "
                        + "POST /v1/segment {\"adapter\":..., \"image\": BASE64, \"points\": [[x, y, label]], \"boxes\": [[x0, y0, x1, y1]]}."})
final class ServeCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "DIR|PRESET",
            description = "The base model: a ViT folder or preset, or a SAM folder, preset or " + SamPretraining.MODEL + ".")
    String model;

    @Option(names = "--adapter", paramLabel = "NAME=DIR", description = "An adapter to serve under NAME (repeatable).")
    List<String> adapters = List.of();

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Interface (default ${DEFAULT-VALUE}: loopback only).")
    String host;

    @Option(names = "--port", defaultValue = "8080", description = "Port; 0 picks a free one (default ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--max-batch", defaultValue = "32", description = "Largest mixed batch (default ${DEFAULT-VALUE}).")
    int maxBatch;

    @Option(names = "--max-wait-ms", defaultValue = "5", description = "How long a batch waits to fill (default ${DEFAULT-VALUE}).")
    int maxWaitMs;

    @Option(names = "--queue", defaultValue = "256", description = "Queued requests before 503 (default ${DEFAULT-VALUE}).")
    int queue;

    @Option(names = "--max-body-mb", defaultValue = "20", description = "Largest request body (default ${DEFAULT-VALUE} MB; 413 over it).")
    int maxBodyMb;

    @Option(names = "--adapter-dir", paramLabel = "DIR",
            description = "Adapters load from inside DIR only: on demand, a request's adapter NAME from DIR/NAME (LRU cache), "
                    + "and POST /v1/adapters {\"name\":..., \"path\":...} (no '..', no links out).")
    Path adapterDir;

    @Option(names = "--adapter-cache-mb", defaultValue = "512",
            description = "Budget of the adapters loaded on demand; the least recently used go first (default ${DEFAULT-VALUE}).")
    long adapterCacheMb;

    @Option(names = "--batching", defaultValue = "mixed", paramLabel = "mixed|per-adapter",
            description = "mixed (default): LoRA-family adapters share one base pass per batch; per-adapter: one pass per "
                    + "adapter in each batch (PEFT's way, for comparison).")
    String batching;

    @Option(names = "--token-file", paramLabel = "FILE", description = "Require 'Authorization: Bearer TOKEN' (the file's first line).")
    Path tokenFile;

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65535) {
            throw new UsageException("--port must be 0..65535, got " + port);
        }
        String token = token(tokenFile);
        if (adapterDir != null && !Files.isDirectory(adapterDir)) {
            throw new UsageException("--adapter-dir " + adapterDir + ": not a folder");
        }
        if (!batching.equals("mixed") && !batching.equals("per-adapter")) {
            throw new UsageException("--batching must be mixed or per-adapter, got '" + batching + "'");
        }
        if (adapterCacheMb < 0 || adapterCacheMb > (1L << 20)) {
            throw new UsageException("--adapter-cache-mb must be 0.." + (1L << 20) + ", got " + adapterCacheMb);
        }
        Map<String, Path> named = new LinkedHashMap<>();
        TaskData.pairs("--adapter", "NAME=DIR", "adapter name", adapters).forEach((name, dir) -> named.put(name, Path.of(dir)));
        AdapterServer.Options options;
        try {
            options = AdapterServer.Options.defaults(host, port).withBatching(maxBatch, maxWaitMs, queue)
                    .withLimits((long) maxBodyMb << 20, token).withAdapterDir(adapterDir, adapterCacheMb << 20)
                    .withPerAdapter(batching.equals("per-adapter"));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        try (NDManager manager = NDManager.newBaseManager()) {
            for (Map.Entry<String, Path> e : named.entrySet()) {
                if (!Files.isDirectory(e.getValue())) {
                    throw new UsageException("--adapter " + e.getKey() + "=" + e.getValue() + ": adapter folder not found");
                }
            }
            List<String> headLabels;
            try {
                headLabels = AdapterLabels.sharedHead(named);
            } catch (IllegalArgumentException e) {
                throw new UsageException("--adapter " + e.getMessage());
            }
            AdapterServer server;
            if (SamModels.isSam(model)) {
                PeftModel peft = new PeftModel(SamModels.load(model, null, manager, true), null, manager);
                server = new AdapterServer(peft, null, null, manager, options);
            } else {
                VitForImageClassification vit = Models.base(model, headLabels, manager);
                PeftModel peft = new PeftModel(vit, vit.headPath(), manager);
                server = new AdapterServer(peft, vit.config().labels(), FineTuning.transformFor(vit), manager, options);
            }
            for (Map.Entry<String, Path> e : named.entrySet()) {
                try {
                    server.pin(e.getKey(), e.getValue());
                } catch (IllegalArgumentException ex) {
                    server.close();
                    throw new UsageException("--adapter " + e.getKey() + "=" + e.getValue() + ": " + ex.getMessage());
                }
            }
            CountDownLatch stop = new CountDownLatch(1);
            // SIGTERM/SIGINT end the wait below instead of the JVM: the queued requests finish and the
            // command returns 0 (a shutdown hook could only run while the JVM already exits with 143).
            for (String signal : List.of("TERM", "INT")) {
                sun.misc.Signal.handle(new sun.misc.Signal(signal), s -> stop.countDown());
            }
            String url = server.start();
            System.out.println(Json.MAPPER.writeValueAsString(Map.of("listening", url)));
            System.out.flush();
            stop.await();
            server.close();
            System.out.println(Json.MAPPER.writeValueAsString(Map.of("stopped", url, "counters", server.counters())));
        }
        return 0;
    }

    /** The bearer token: the first line of {@code file} (null when no file is given), never empty. */
    static String token(Path file) throws java.io.IOException {
        if (file == null) {
            return null;
        }
        if (!Files.isRegularFile(file)) {
            throw new UsageException("--token-file " + file + ": not found");
        }
        String token = Files.readAllLines(file).stream().findFirst().orElse("").strip();
        if (token.isEmpty()) {
            throw new UsageException("--token-file " + file + ": empty");
        }
        return token;
    }
}
