package org.peft4j.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads tensors from a safetensors file through memory mapping.
 *
 * <p>Each read maps only the bytes of one tensor, in segments of at most 1 GiB, so files and
 * tensors larger than 2 GiB work and the file is never loaded whole. Float types are widened in
 * Java before any NDArray exists: DJL's PyTorch engine aborts the JVM on BF16 arrays.
 */
public final class SafetensorsReader implements AutoCloseable {

    private static final int DEFAULT_SEGMENT_BYTES = 1 << 30;
    // Some JVMs reserve a few header words in arrays; stay below their real limit.
    private static final long MAX_ARRAY_LENGTH = Integer.MAX_VALUE - 8;

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, String> metadata;
    private final Map<String, TensorInfo> tensors;
    private final int segmentBytes;
    private volatile boolean closed;

    private SafetensorsReader(Path path, FileChannel channel, SafetensorsHeader header, int segmentBytes) {
        this.path = path;
        this.channel = channel;
        this.dataStart = header.dataStart();
        this.metadata = Collections.unmodifiableMap(new LinkedHashMap<>(header.metadata()));
        Map<String, TensorInfo> byName = new LinkedHashMap<>();
        for (TensorInfo tensor : header.tensors()) {
            byName.put(tensor.name(), tensor);
        }
        this.tensors = Collections.unmodifiableMap(byName);
        this.segmentBytes = segmentBytes;
    }

    /** Opens and validates the file; throws {@link SafetensorsException} if it is malformed. */
    public static SafetensorsReader open(Path path) throws IOException {
        return open(path, DEFAULT_SEGMENT_BYTES);
    }

    /** Package-private so tests can exercise segmented reads with tiny segments. */
    static SafetensorsReader open(Path path, int segmentBytes) throws IOException {
        if (segmentBytes < 8) {
            throw new IllegalArgumentException("segmentBytes must be at least 8: " + segmentBytes);
        }
        FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
        try {
            SafetensorsHeader header = SafetensorsHeader.read(path, channel);
            return new SafetensorsReader(path, channel, header, segmentBytes);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    /** The {@code __metadata__} string map (empty when the file has none). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Tensor names in data-offset order. */
    public List<String> names() {
        return List.copyOf(tensors.keySet());
    }

    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    public TensorInfo info(String name) {
        TensorInfo info = tensors.get(name);
        if (info == null) {
            throw new IllegalArgumentException(path + ": no tensor named '" + name + "'; the file holds "
                    + tensors.size() + " tensors, e.g. " + sampleNames(5));
        }
        return info;
    }

    /**
     * The tensor's bytes as a read-only little-endian view of the mapped file. Copy them before
     * handing them to DJL: a direct buffer given to {@code NDManager.create} is used in place.
     */
    public ByteBuffer rawBytes(String name) throws IOException {
        TensorInfo info = info(name);
        if (info.byteSize() > Integer.MAX_VALUE) {
            throw new SafetensorsException(path, "tensor '" + name + "' has " + info.byteSize()
                    + " bytes, more than one ByteBuffer can hold; use readFloats or readLongs");
        }
        return map(info.begin(), info.byteSize());
    }

    /**
     * Refuses a tensor that cannot be a weight: integer or boolean bytes would otherwise load as
     * numbers without a word (float32 bytes mislabelled I32 are plausible-looking garbage).
     */
    public void requireFloatingPoint(String name) throws SafetensorsException {
        TensorInfo info = info(name);
        if (!info.dtype().isFloatingPoint()) {
            throw new SafetensorsException(path, "tensor '" + name + "' is " + info.dtype().safetensorsName()
                    + "; a weight must be F32, F16, BF16 or F64");
        }
    }

    /**
     * Refuses NaN or infinite weights: they load without a word and turn every output into NaN (a
     * prediction scored "NaN", a training run that "diverges" at its first step).
     */
    public void requireFinite(String name, NDArray values) throws SafetensorsException {
        try (NDArray bad = values.isNaN().logicalOr(values.isInfinite()); NDArray any = bad.any()) {
            if (any.getBoolean()) {
                throw new SafetensorsException(path, "tensor '" + name + "' holds NaN or infinite values");
            }
        }
    }

    /** {@link #requireFinite(String, NDArray)} for values already read. */
    public void requireFinite(String name, float[] values) throws SafetensorsException {
        for (float v : values) {
            if (!Float.isFinite(v)) {
                throw new SafetensorsException(path, "tensor '" + name + "' holds NaN or infinite values");
            }
        }
    }

    /** Elements as floats: F16/BF16 widened exactly, F64 rounded, integers and booleans converted. */
    public float[] readFloats(String name) throws IOException {
        TensorInfo info = info(name);
        float[] values = new float[arrayLength(info)];
        forEachSegment(info, (segment, first) -> decodeFloats(info.dtype(), segment, values, first));
        return values;
    }

    /** Elements of an integer or BOOL tensor as longs (U8 as 0..255, BOOL as 0/1). */
    public long[] readLongs(String name) throws IOException {
        TensorInfo info = info(name);
        requireIntegral(info, "readLongs");
        long[] values = new long[arrayLength(info)];
        forEachSegment(info, (segment, first) -> decodeLongs(info.dtype(), segment, values, first));
        return values;
    }

    /**
     * The tensor as an NDArray owned by {@code manager}: F32/F16/BF16/F64 become FLOAT32, I64 INT64,
     * I32 and I16 INT32, I8 INT8, U8 UINT8, BOOL BOOLEAN.
     */
    public NDArray readNDArray(String name, NDManager manager) throws IOException {
        TensorInfo info = info(name);
        Shape shape = new Shape(info.shape());
        NDArray array = switch (info.dtype()) {
            case F32, F16, BF16, F64 -> manager.create(readFloats(name), shape);
            case I64 -> manager.create(readLongs(name), shape);
            // I16 is widened because DJL's PyTorch engine support for INT16 is unverified.
            case I32, I16 -> manager.create(readInts(info), shape);
            case I8 -> manager.create(ByteBuffer.wrap(copyBytes(info)), shape, DataType.INT8);
            case U8 -> manager.create(ByteBuffer.wrap(copyBytes(info)), shape, DataType.UINT8);
            case BOOL -> manager.create(ByteBuffer.wrap(booleanBytes(info)), shape, DataType.BOOLEAN);
        };
        array.setName(name);
        return array;
    }

    /** Every tensor, in data-offset order. */
    public Map<String, NDArray> readAll(NDManager manager) throws IOException {
        Map<String, NDArray> arrays = new LinkedHashMap<>();
        try {
            for (String name : tensors.keySet()) {
                arrays.put(name, readNDArray(name, manager));
            }
        } catch (IOException | RuntimeException e) {
            arrays.values().forEach(NDArray::close);
            throw e;
        }
        return arrays;
    }

    @Override
    public void close() throws IOException {
        closed = true;
        channel.close();
    }

    private interface SegmentDecoder {
        void decode(ByteBuffer segment, int firstElement);
    }

    /** Maps the tensor in whole-element segments of at most {@code segmentBytes}. */
    private void forEachSegment(TensorInfo info, SegmentDecoder decoder) throws IOException {
        int elementBytes = info.dtype().byteSize();
        long segmentLimit = (long) segmentBytes / elementBytes * elementBytes;
        long done = 0;
        while (done < info.byteSize()) {
            long length = Math.min(segmentLimit, info.byteSize() - done);
            decoder.decode(map(info.begin() + done, length), (int) (done / elementBytes));
            done += length;
        }
    }

    private ByteBuffer map(long begin, long length) throws IOException {
        if (closed) {
            throw new IllegalStateException(path + ": reader is closed");
        }
        if (length == 0) {
            return ByteBuffer.allocate(0).order(ByteOrder.LITTLE_ENDIAN).asReadOnlyBuffer();
        }
        return channel.map(FileChannel.MapMode.READ_ONLY, dataStart + begin, length)
                .order(ByteOrder.LITTLE_ENDIAN);
    }

    private int arrayLength(TensorInfo info) throws SafetensorsException {
        long numel = info.numel();
        if (numel > MAX_ARRAY_LENGTH) {
            throw new SafetensorsException(path, "tensor '" + info.name() + "' has " + numel
                    + " elements, more than a Java array can hold");
        }
        return (int) numel;
    }

    private void requireIntegral(TensorInfo info, String method) {
        if (info.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException(path + ": tensor '" + info.name() + "' has dtype "
                    + info.dtype() + "; " + method + " reads integer and BOOL tensors only");
        }
    }

    private int[] readInts(TensorInfo info) throws IOException {
        long[] longs = readLongs(info.name());
        int[] ints = new int[longs.length];
        for (int i = 0; i < longs.length; i++) {
            ints[i] = (int) longs[i]; // exact: only I32 and I16 come here
        }
        return ints;
    }

    private byte[] copyBytes(TensorInfo info) throws IOException {
        byte[] bytes = new byte[arrayLength(info)];
        forEachSegment(info, (segment, first) -> segment.get(bytes, first, segment.remaining()));
        return bytes;
    }

    // PyTorch expects bool bytes to be 0 or 1; any other byte value means true.
    private byte[] booleanBytes(TensorInfo info) throws IOException {
        byte[] bytes = copyBytes(info);
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (bytes[i] != 0 ? 1 : 0);
        }
        return bytes;
    }

    private static void decodeFloats(DType dtype, ByteBuffer segment, float[] out, int first) {
        int count = segment.remaining() / dtype.byteSize();
        switch (dtype) {
            case F32 -> segment.asFloatBuffer().get(out, first, count);
            case F64 -> {
                for (int i = 0; i < count; i++) {
                    out[first + i] = (float) segment.getDouble(i * 8);
                }
            }
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    out[first + i] = HalfFloats.f16ToFloat(segment.getShort(i * 2));
                }
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    out[first + i] = HalfFloats.bf16ToFloat(segment.getShort(i * 2));
                }
            }
            default -> {
                long[] longs = new long[count];
                decodeLongs(dtype, segment, longs, 0);
                for (int i = 0; i < count; i++) {
                    out[first + i] = (float) longs[i];
                }
            }
        }
    }

    private static void decodeLongs(DType dtype, ByteBuffer segment, long[] out, int first) {
        int count = segment.remaining() / dtype.byteSize();
        switch (dtype) {
            case I64 -> segment.asLongBuffer().get(out, first, count);
            case I32 -> {
                for (int i = 0; i < count; i++) {
                    out[first + i] = segment.getInt(i * 4);
                }
            }
            case I16 -> {
                for (int i = 0; i < count; i++) {
                    out[first + i] = segment.getShort(i * 2);
                }
            }
            case I8 -> {
                for (int i = 0; i < count; i++) {
                    out[first + i] = segment.get(i);
                }
            }
            case U8 -> {
                for (int i = 0; i < count; i++) {
                    out[first + i] = segment.get(i) & 0xFF;
                }
            }
            case BOOL -> {
                for (int i = 0; i < count; i++) {
                    out[first + i] = segment.get(i) != 0 ? 1 : 0;
                }
            }
            default -> throw new IllegalArgumentException("not an integer dtype: " + dtype);
        }
    }

    private String sampleNames(int count) {
        List<String> sample = new ArrayList<>();
        for (String name : tensors.keySet()) {
            if (sample.size() == count) {
                sample.add("...");
                break;
            }
            sample.add(name);
        }
        return sample.toString();
    }
}
