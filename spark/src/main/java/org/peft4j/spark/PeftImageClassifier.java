package org.peft4j.spark;

import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.param.StringArrayParam;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.peft4j.cli.TaskData;
import org.peft4j.data.DataException;
import org.peft4j.data.ImageFolder;
import org.peft4j.data.RawImage;
import org.peft4j.eval.Metrics;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Batch image classification with a ViT and several adapters as a Spark ML {@link Transformer}: one
 * output row per (input row, adapter) with {@code adapter}, the label ({@code outputCol}),
 * {@code score} (its softmax probability), {@code logits} and {@code error} (set, with the others
 * null, when the image cannot be decoded: the job goes on). The input column holds encoded PNG/JPEG
 * bytes ({@code binaryFile}'s {@code content}, or any binary column) or the struct of Spark's
 * {@code image} source (BGR bytes with height, width, nChannels). The other input columns are kept,
 * the image column is dropped. Each executor JVM loads the base once and the adapters by name
 * ({@link ExecutorModels}); a missing model or adapter fails {@link #transform} on the driver, before
 * any task starts. Savable ({@link DefaultParamsWritable}), usable in a {@code Pipeline}, and reachable
 * from PySpark as {@code org.peft4j.spark.PeftImageClassifier}.
 */
public final class PeftImageClassifier extends Transformer implements DefaultParamsWritable {

    private static final long serialVersionUID = 1L;

    private final String uid;
    private final Param<String> model;
    private final StringArrayParam adapters;
    private final Param<String> inputCol;
    private final Param<String> outputCol;
    private final IntParam batchSize;

    public PeftImageClassifier() {
        this("peftImageClassifier_" + java.util.UUID.randomUUID().toString().replace("-", "").substring(0, 12));
    }

    public PeftImageClassifier(String uid) {
        this.uid = uid;
        model = new Param<>(this, "model", "ViT model folder (config.json + model.safetensors), the same path on every executor");
        adapters = new StringArrayParam(this, "adapters", "adapters as NAME=DIR; none: the base model alone");
        inputCol = new Param<>(this, "inputCol", "image column: encoded bytes (binary) or Spark's image struct");
        outputCol = new Param<>(this, "outputCol", "label column");
        batchSize = new IntParam(this, "batchSize", "rows per forward pass (image, adapter pairs)", ParamValidators.inRange(1, 4096));
        setDefault(adapters, new String[0]);
        setDefault(inputCol, "content");
        setDefault(outputCol, "label");
        setDefault(batchSize, 32);
    }

    public PeftImageClassifier setModel(String value) {
        set(model, value);
        return this;
    }

    /** Adapters by name: each value an adapter folder. */
    public PeftImageClassifier setAdapters(Map<String, String> value) {
        List<String> pairs = new ArrayList<>();
        value.forEach((k, v) -> pairs.add(k + "=" + v));
        set(adapters, pairs.toArray(String[]::new));
        return this;
    }

    public PeftImageClassifier setInputCol(String value) {
        set(inputCol, value);
        return this;
    }

    public PeftImageClassifier setOutputCol(String value) {
        set(outputCol, value);
        return this;
    }

    public PeftImageClassifier setBatchSize(int value) {
        set(batchSize, value);
        return this;
    }

    public Param<String> model() {
        return model;
    }

    public StringArrayParam adapters() {
        return adapters;
    }

    public Param<String> inputCol() {
        return inputCol;
    }

    public Param<String> outputCol() {
        return outputCol;
    }

    public IntParam batchSize() {
        return batchSize;
    }

    /** Adapter folders by name, in the order given. */
    Map<String, String> adapterMap() {
        return TaskData.pairs("adapters", "NAME=DIR", "adapter name", Arrays.asList($(adapters)));
    }

    @Override
    public String uid() {
        return uid;
    }

    @Override
    public StructType transformSchema(StructType schema) {
        String in = $(inputCol);
        if (!Arrays.asList(schema.fieldNames()).contains(in)) {
            throw new IllegalArgumentException("no input column '" + in + "'; columns: " + Arrays.toString(schema.fieldNames()));
        }
        DataType type = schema.apply(in).dataType();
        if (!type.equals(DataTypes.BinaryType) && !isImageStruct(type)) {
            throw new IllegalArgumentException("input column '" + in + "' is " + type.simpleString()
                    + "; expected binary (encoded PNG/JPEG) or the struct of Spark's image source");
        }
        List<StructField> fields = new ArrayList<>();
        for (StructField f : schema.fields()) {
            if (!f.name().equals(in)) {
                fields.add(f);
            }
        }
        fields.add(DataTypes.createStructField("adapter", DataTypes.StringType, true));
        fields.add(DataTypes.createStructField($(outputCol), DataTypes.StringType, true));
        fields.add(DataTypes.createStructField("score", DataTypes.DoubleType, true));
        fields.add(DataTypes.createStructField("logits", DataTypes.createArrayType(DataTypes.FloatType, false), true));
        fields.add(DataTypes.createStructField("error", DataTypes.StringType, true));
        return DataTypes.createStructType(fields);
    }

    private static boolean isImageStruct(DataType type) {
        return type instanceof StructType s && Arrays.asList(s.fieldNames()).containsAll(List.of("height", "width", "nChannels", "data"));
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        if (!isDefined(model)) {
            throw new IllegalArgumentException("setModel(...) is required");
        }
        StructType inSchema = dataset.schema();
        StructType outSchema = transformSchema(inSchema);
        String modelDir = $(model);
        Map<String, String> folders = new LinkedHashMap<>(adapterMap());
        ExecutorModels.check(modelDir, folders); // fails the job here, before any task starts
        List<String> names = new ArrayList<>(folders.keySet());
        if (names.isEmpty()) {
            names.add(null);
        }
        int imageIndex = inSchema.fieldIndex($(inputCol));
        boolean struct = isImageStruct(inSchema.apply($(inputCol)).dataType());
        int rows = (Integer) $(batchSize);
        MapPartitionsFunction<Row, Row> predict = it -> new PartitionPredictor(it, modelDir, folders, names, imageIndex, struct, rows);
        return dataset.toDF().mapPartitions(predict, Encoders.row(outSchema));
    }

    /** Predicts a partition chunk by chunk: a chunk's (image, adapter) pairs go through mixed batches. */
    private static final class PartitionPredictor implements Iterator<Row> {

        private final Iterator<Row> input;
        private final ExecutorModels.Classifier classifier;
        private final List<String> names;
        private final int imageIndex;
        private final boolean struct;
        private final int batchRows;
        private Iterator<Row> ready = java.util.Collections.emptyIterator();

        PartitionPredictor(Iterator<Row> input, String model, Map<String, String> folders, List<String> names, int imageIndex,
                           boolean struct, int batchRows) {
            org.peft4j.nn.Threads.gradientsOffOnThisThread(); // a task thread: no autograd graph for inference
            this.input = input;
            this.classifier = ExecutorModels.classifier(model, folders);
            this.names = names;
            this.imageIndex = imageIndex;
            this.struct = struct;
            this.batchRows = batchRows;
        }

        @Override
        public boolean hasNext() {
            while (!ready.hasNext() && input.hasNext()) {
                ready = nextChunk().iterator();
            }
            return ready.hasNext();
        }

        @Override
        public Row next() {
            if (!hasNext()) {
                throw new java.util.NoSuchElementException();
            }
            return ready.next();
        }

        private List<Row> nextChunk() {
            List<Row> chunk = new ArrayList<>();
            int images = Math.max(1, batchRows / names.size());
            while (input.hasNext() && chunk.size() < images) {
                chunk.add(input.next());
            }
            List<RawImage> pairImages = new ArrayList<>();
            List<String> pairAdapters = new ArrayList<>();
            String[] errors = new String[chunk.size()];
            for (int r = 0; r < chunk.size(); r++) {
                try {
                    RawImage img = decode(chunk.get(r));
                    for (String a : names) {
                        pairImages.add(img);
                        pairAdapters.add(a);
                    }
                } catch (DataException | IllegalArgumentException e) {
                    errors[r] = e.getMessage();
                }
            }
            float[][] logits;
            try {
                logits = classifier.logits(pairImages, pairAdapters, batchRows);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            List<Row> out = new ArrayList<>();
            int pair = 0;
            for (int r = 0; r < chunk.size(); r++) {
                for (String a : names) {
                    if (errors[r] != null) {
                        out.add(row(chunk.get(r), a, null, null, null, errors[r]));
                        continue;
                    }
                    float[] l = logits[pair++];
                    int best = Metrics.argmax(l, 1, l.length)[0]; // label and score as local predict gives them
                    double score = Metrics.softmax(l, 0, l.length)[best];
                    List<String> labels;
                    try {
                        labels = classifier.labels(a);
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                    out.add(row(chunk.get(r), a, labels.get(best), score, l, null));
                }
            }
            return out;
        }

        private RawImage decode(Row row) {
            if (row.isNullAt(imageIndex)) {
                throw new IllegalArgumentException("no image (null)");
            }
            if (!struct) {
                return ImageFolder.decode((byte[]) row.get(imageIndex), "in row " + describe(row));
            }
            Row s = row.getStruct(imageIndex);
            int h = s.getInt(s.fieldIndex("height"));
            int w = s.getInt(s.fieldIndex("width"));
            int c = s.getInt(s.fieldIndex("nChannels"));
            byte[] bgr = (byte[]) s.get(s.fieldIndex("data"));
            if (h <= 0 || w <= 0 || (c != 1 && c != 3 && c != 4) || bgr == null || bgr.length != (long) h * w * c) {
                throw new IllegalArgumentException("image struct of " + w + "x" + h + "x" + c + " with "
                        + (bgr == null ? "no" : bgr.length) + " bytes (Spark's image source is BGR(A), 1, 3 or 4 channels)");
            }
            byte[] rgb = bgr.clone();
            if (c >= 3) { // BGR(A) → RGB(A)
                for (int i = 0; i < rgb.length; i += c) {
                    rgb[i] = bgr[i + 2];
                    rgb[i + 2] = bgr[i];
                }
            }
            return new RawImage(w, h, c, rgb);
        }

        private static String describe(Row row) {
            int path = Arrays.asList(row.schema().fieldNames()).indexOf("path");
            return path >= 0 && !row.isNullAt(path) ? row.getString(path) : row.toString().substring(0, Math.min(60, row.toString().length()));
        }

        private Row row(Row in, String adapter, String label, Double score, float[] logits, String error) {
            List<Object> values = new ArrayList<>();
            for (int i = 0; i < in.size(); i++) {
                if (i != imageIndex) {
                    values.add(in.get(i));
                }
            }
            values.add(adapter);
            values.add(label);
            values.add(score);
            values.add(logits == null ? null : boxed(logits));
            values.add(error);
            return RowFactory.create(values.toArray());
        }

        private static scala.collection.immutable.Seq<Object> boxed(float[] v) {
            List<Object> out = new ArrayList<>(v.length);
            for (float f : v) {
                out.add(f);
            }
            return scala.jdk.javaapi.CollectionConverters.asScala(out).toSeq();
        }
    }

    @Override
    public PeftImageClassifier copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    /** For {@code PeftImageClassifier.load(path)} and {@code Pipeline}/{@code PipelineModel} loading. */
    public static MLReader<PeftImageClassifier> read() {
        return new DefaultParamsReader<>();
    }

    public static PeftImageClassifier load(String path) {
        return read().load(path);
    }
}
