package org.peft4j.spark.cli;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.peft4j.cli.TaskData;
import org.peft4j.cli.Outputs;
import org.peft4j.cli.UsageException;
import org.peft4j.io.Json;
import org.peft4j.spark.PeftImageClassifier;
import org.peft4j.spark.Sessions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "predict", mixinStandardHelpOptions = true,
        description = {"Classify every image of a folder or Parquet table with a ViT and each adapter on Spark: one output row "
                + "per (image, adapter) with path, adapter, label, score, logits and error (an unreadable image is a row "
                + "with error set; the job goes on). Writes Parquet or JSON lines into --output (a folder)."})
final class SparkPredictCommand implements Callable<Integer> {

    @Option(names = "--master", defaultValue = "local[*]", description = "Spark master (default ${DEFAULT-VALUE}).")
    String master;

    @Option(names = "--model", required = true, paramLabel = "DIR",
            description = "ViT model folder (config.json + model.safetensors); on a cluster, a path every executor sees.")
    Path model;

    @Option(names = "--adapter", paramLabel = "NAME=DIR", description = "An adapter to predict with (repeatable); none: the base model.")
    List<String> adapters = List.of();

    @Option(names = "--input", required = true, paramLabel = "DIR|FILE.parquet",
            description = "An image folder (searched recursively for PNG/JPEG/BMP/GIF), or a Parquet table (a file or folder "
                    + "named *.parquet) with path and image (bytes) columns.")
    String input;

    @Option(names = "--output", required = true, paramLabel = "OUT", description = "Output folder.")
    Path output;

    @Option(names = "--format", defaultValue = "parquet", paramLabel = "parquet|jsonl",
            description = "Output format (default ${DEFAULT-VALUE}).")
    String format;

    @Option(names = "--batch-size", defaultValue = "32", description = "(image, adapter) rows per forward pass (default ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--overwrite", description = "Replace --output if it exists.")
    boolean overwrite;

    @Override
    public Integer call() {
        if (!format.equals("parquet") && !format.equals("jsonl")) {
            throw new UsageException("--format must be parquet or jsonl, got '" + format + "'");
        }
        if (batchSize < 1 || batchSize > 4096) {
            throw new UsageException("--batch-size must be 1..4096, got " + batchSize);
        }
        Path in = Path.of(input);
        if (!Files.exists(in)) {
            throw new UsageException("--input " + input + ": not found");
        }
        // --overwrite deletes --output first: it must not hold (or be inside) the images or the model
        Outputs.requireApart("--output", output, in, "the input");
        Outputs.requireApart("--output", output, model, "the model folder");
        if (Files.exists(output) && !overwrite) {
            throw new UsageException("--output " + output + " exists; pass --overwrite to replace it");
        }
        Map<String, String> named = TaskData.pairs("--adapter", "NAME=DIR", "adapter name", adapters);
        PeftImageClassifier classifier = new PeftImageClassifier().setModel(model.toString()).setAdapters(named)
                .setBatchSize(batchSize);
        try {
            org.peft4j.spark.ExecutorModels.check(model.toString(), named);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        try (Sessions.Lease lease = Sessions.lease(master, "peft4j predict")) {
            SparkSession spark = lease.session();
            Dataset<Row> images;
            boolean parquet = in.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".parquet");
            if (!parquet && Files.isDirectory(in)) { // an image folder (Spark writes a table as a folder named *.parquet)
                images = spark.read().format("binaryFile").option("recursiveFileLookup", "true")
                        .option("pathGlobFilter", "*.{png,PNG,jpg,JPG,jpeg,JPEG,bmp,BMP,gif,GIF}").load(input)
                        .select("path", "content");
                classifier.setInputCol("content");
            } else {
                images = spark.read().parquet(input);
                List<String> columns = Arrays.asList(images.columns());
                if (!columns.contains("path") || !columns.contains("image")) {
                    throw new UsageException("--input " + input + ": a Parquet table needs 'path' and 'image' (bytes) columns; it has "
                            + columns);
                }
                images = images.select("path", "image");
                classifier.setInputCol("image");
            }
            // A few large tasks per core rather than one per 32 small files (Spark's default split): fewer task starts
            // and output files. No global sort: it would run the model twice (once to sample the range bounds).
            int partitions = 4 * spark.sparkContext().defaultParallelism();
            if (images.rdd().getNumPartitions() > partitions) {
                images = images.coalesce(partitions);
            }
            Dataset<Row> out = classifier.transform(images).select("path", "adapter", "label", "score", "logits", "error");
            var writer = out.write().mode(overwrite ? SaveMode.Overwrite : SaveMode.ErrorIfExists);
            if (format.equals("parquet")) {
                writer.parquet(output.toString());
            } else {
                writer.option("ignoreNullFields", "false").json(output.toString()); // every line has every field
            }
            Dataset<Row> written = format.equals("parquet") ? spark.read().parquet(output.toString()) : spark.read().json(output.toString());
            long rows = written.count();
            long errors = written.filter(functions.col("error").isNotNull()).count();
            System.out.println(Json.MAPPER.writeValueAsString(Map.of("output", output.toString(), "rows", rows, "errors", errors)));
            return 0;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
