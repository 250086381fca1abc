package org.peft4j.cli;

import org.peft4j.data.DataException;
import org.peft4j.data.ImageFolder;
import org.peft4j.io.AtomicFiles;
import org.peft4j.io.Json;
import org.peft4j.serve.LoadTest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

@Command(name = "loadtest", mixinStandardHelpOptions = true,
        description = {"Load a local 'peft4j serve' with predictions for several adapters: CONCURRENCY clients each send one "
                + "request at a time until REQUESTS are sent or --max-seconds pass. Prints throughput, p50/p95/p99 latency and "
                + "errors by status, and writes them as JSON. Loopback servers only."})
final class LoadtestCommand implements Callable<Integer> {

    @Option(names = "--url", required = true, description = "The server, e.g. http://127.0.0.1:8080 (loopback only).")
    String url;

    @Option(names = "--adapters", required = true, split = ",", paramLabel = "a,b,...",
            description = "Adapter names to spread the requests over; 'base' for the base model.")
    List<String> adapters;

    @Option(names = "--concurrency", defaultValue = "32", description = "Clients in flight (default ${DEFAULT-VALUE}).")
    int concurrency;

    @Option(names = "--requests", defaultValue = "2000", description = "Requests to send (default ${DEFAULT-VALUE}).")
    int requests;

    @Option(names = "--distribution", defaultValue = "uniform", paramLabel = "uniform|zipf",
            description = "How requests spread over the adapters: uniform, or zipf (s = 1: the first adapter most often). "
                    + "Default ${DEFAULT-VALUE}.")
    String distribution;

    @Option(names = "--images", paramLabel = "DIR",
            description = "PNG/JPEG files to send (the folder's top level, sorted, at most 1000); default: 32 generated images.")
    Path images;

    @Option(names = "--max-seconds", defaultValue = "600", description = "Stop sending after this long (default ${DEFAULT-VALUE}).")
    int maxSeconds;

    @Option(names = "--token-file", paramLabel = "FILE", description = "Send 'Authorization: Bearer TOKEN' (the file's first line).")
    Path tokenFile;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the adapter draw and the generated images.")
    long seed;

    @Option(names = "--out", defaultValue = "loadtest.json", description = "JSON result file (default ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--overwrite", description = "Replace --out if it exists.")
    boolean overwrite;

    @Override
    public Integer call() throws Exception {
        if (!distribution.equals("uniform") && !distribution.equals("zipf")) {
            throw new UsageException("--distribution must be uniform or zipf, got '" + distribution + "'");
        }
        if (maxSeconds < 1 || maxSeconds > 86_400) {
            throw new UsageException("--max-seconds must be 1..86400, got " + maxSeconds);
        }
        if (Files.exists(out) && !overwrite) {
            throw new UsageException("--out " + out + " exists; pass --overwrite to replace it");
        }
        if (Files.isDirectory(out)) {
            throw new UsageException("--out " + out + " is a folder; give a file name");
        }
        URI uri;
        try {
            uri = LoadTest.loopback(url);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        List<String> names = new ArrayList<>();
        for (String a : adapters) {
            if (a.isBlank()) {
                throw new UsageException("--adapters " + String.join(",", adapters) + ": an empty name");
            }
            names.add(a.strip().equals("base") ? null : a.strip());
        }
        String token = ServeCommand.token(tokenFile);
        LoadTest.Plan plan;
        try {
            plan = new LoadTest.Plan(uri, names, concurrency, requests, distribution.equals("zipf"), images(),
                    Duration.ofSeconds(maxSeconds), token, seed);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        Map<String, Object> result = LoadTest.run(plan);
        System.out.println(LoadTest.table(result));
        AtomicFiles.writeString(out, Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(result) + "\n");
        System.out.println(Json.MAPPER.writeValueAsString(Map.of("result", out.toString())));
        return 0;
    }

    /** The images to send: --images' PNG/JPEG files (each checked to decode), or generated ones. */
    private List<byte[]> images() throws IOException {
        if (images == null) {
            return LoadTest.generatedImages(32, 64, seed);
        }
        if (!Files.isDirectory(images)) {
            throw new UsageException("--images " + images + ": not a folder");
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(images)) {
            files = s.filter(p -> p.getFileName().toString().toLowerCase(java.util.Locale.ROOT).matches(".*\\.(png|jpe?g)"))
                    .filter(Files::isRegularFile).sorted().limit(1000).toList();
        }
        if (files.isEmpty()) {
            throw new UsageException("--images " + images + ": no .png/.jpg/.jpeg files");
        }
        List<byte[]> out = new ArrayList<>();
        for (Path f : files) {
            if (Files.size(f) > 20L << 20) {
                throw new UsageException(f + ": over 20 MB, larger than serve's default body limit");
            }
            try {
                ImageFolder.decode(f);
            } catch (DataException e) {
                throw new UsageException(e.getMessage());
            }
            out.add(Files.readAllBytes(f));
        }
        return out;
    }
}
