package org.peft4j.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Collects tensors, then writes them as one safetensors file, byte for byte as the Python
 * {@code safetensors} library (Rust {@code serialize_to_file}) would: tensors laid out by
 * descending dtype alignment, then by name; a compact JSON header listing {@code __metadata__}
 * first and the tensors in layout order; the header padded with spaces to a multiple of 8 bytes.
 * For a file whose tensors share one dtype the layout order is simply the sorted names.
 *
 * <p>Metadata defaults to {@code {"format":"pt"}}, as written by transformers and PEFT. The Python
 * library keeps metadata in a hash map, so with several keys its order is arbitrary; here the keys
 * are sorted.
 */
public final class SafetensorsWriter {

    private record Entry(String name, DType dtype, long[] shape, byte[] data, byte[] utf8Name) {}

    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private final Map<String, String> metadata = new TreeMap<>();

    public SafetensorsWriter() {
        metadata.put("format", "pt");
    }

    /** Adds or replaces a {@code __metadata__} entry. */
    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(requireUtf8(key, "metadata key"), requireUtf8(value, "metadata value"));
        return this;
    }

    /** Drops all metadata, the default format=pt included: the header then has no __metadata__. */
    public SafetensorsWriter clearMetadata() {
        metadata.clear();
        return this;
    }

    /** Copies the array's data now, so the array may be closed before {@link #write}. */
    public SafetensorsWriter add(String name, NDArray array) {
        DType dtype = dtypeOf(name, array.getDataType());
        ByteBuffer buffer = array.toByteBuffer();
        byte[] data = new byte[buffer.remaining()];
        buffer.get(data);
        if (buffer.order() != ByteOrder.LITTLE_ENDIAN) {
            swapBytes(data, dtype.byteSize());
        }
        return add(name, dtype, array.getShape().getShape(), data);
    }

    public SafetensorsWriter add(String name, float[] data, long... shape) {
        ByteBuffer buffer = ByteBuffer.allocate(Math.multiplyExact(data.length, 4))
                .order(ByteOrder.LITTLE_ENDIAN);
        buffer.asFloatBuffer().put(data);
        return add(name, DType.F32, shape, buffer.array());
    }

    /** Adds raw little-endian element bytes; the array is copied. */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, byte[] littleEndianData) {
        requireUtf8(name, "tensor name");
        if (name.equals(SafetensorsHeader.METADATA_KEY)) {
            throw new IllegalArgumentException("'" + name + "' is reserved for metadata, not a tensor name");
        }
        if (entries.containsKey(name)) {
            throw new IllegalArgumentException("duplicate tensor name '" + name + "'");
        }
        // TensorInfo checks the shape; its numel is the element count the data must hold.
        long numel = new TensorInfo(name, dtype, shape, 0, 0).numel();
        long byteCount = Math.multiplyExact(numel, dtype.byteSize());
        if (byteCount != littleEndianData.length) {
            throw new IllegalArgumentException("tensor '" + name + "' of dtype " + dtype + " and shape "
                    + Arrays.toString(shape) + " needs " + byteCount + " bytes, got "
                    + littleEndianData.length);
        }
        byte[] utf8Name = name.getBytes(StandardCharsets.UTF_8);
        entries.put(name, new Entry(name, dtype, shape.clone(), littleEndianData.clone(), utf8Name));
        return this;
    }

    /** Writes the file atomically: a failure leaves any previous file at {@code target} intact. */
    public void write(Path target) throws IOException {
        List<Entry> layout = layoutOrder();
        byte[] header = header(layout);
        AtomicFiles.write(target, out -> {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array());
            out.write(header);
            for (Entry entry : layout) {
                out.write(entry.data());
            }
        });
    }

    // Descending alignment keeps every tensor aligned to its element size, since the data
    // section starts at a multiple of 8; names break ties, compared as UTF-8 bytes like Rust does.
    private List<Entry> layoutOrder() {
        List<Entry> layout = new ArrayList<>(entries.values());
        layout.sort(Comparator.comparingInt((Entry e) -> -e.dtype().layoutRank())
                .thenComparing(Entry::utf8Name, Arrays::compareUnsigned));
        return layout;
    }

    private byte[] header(List<Entry> layout) {
        StringBuilder json = new StringBuilder("{");
        if (!metadata.isEmpty()) {
            appendString(json, SafetensorsHeader.METADATA_KEY);
            json.append(":{");
            boolean first = true;
            for (Map.Entry<String, String> item : metadata.entrySet()) {
                if (!first) {
                    json.append(',');
                }
                first = false;
                appendString(json, item.getKey());
                json.append(':');
                appendString(json, item.getValue());
            }
            json.append('}');
        }
        long offset = 0;
        for (Entry entry : layout) {
            if (json.length() > 1) {
                json.append(',');
            }
            appendString(json, entry.name());
            json.append(":{\"dtype\":");
            appendString(json, entry.dtype().safetensorsName());
            json.append(",\"shape\":[");
            for (int i = 0; i < entry.shape().length; i++) {
                json.append(i == 0 ? "" : ",").append(entry.shape()[i]);
            }
            long end = offset + entry.data().length;
            json.append("],\"data_offsets\":[").append(offset).append(',').append(end).append("]}");
            offset = end;
        }
        json.append('}');
        byte[] utf8 = json.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (utf8.length + 7) / 8 * 8;
        byte[] header = Arrays.copyOf(utf8, padded);
        Arrays.fill(header, utf8.length, padded, (byte) ' ');
        return header;
    }

    /** A JSON string as serde_json writes it: only quote, backslash and controls are escaped. */
    private static void appendString(StringBuilder json, String value) {
        json.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> json.append("\\\"");
                case '\\' -> json.append("\\\\");
                case '\b' -> json.append("\\b");
                case '\f' -> json.append("\\f");
                case '\n' -> json.append("\\n");
                case '\r' -> json.append("\\r");
                case '\t' -> json.append("\\t");
                default -> {
                    if (c < 0x20) {
                        json.append(String.format("\\u%04x", (int) c));
                    } else {
                        json.append(c);
                    }
                }
            }
        }
        json.append('"');
    }

    // Rust strings cannot hold unpaired surrogates; refuse them rather than write '?'.
    private static String requireUtf8(String value, String what) {
        if (value == null) {
            throw new IllegalArgumentException(what + " is null");
        }
        try {
            StandardCharsets.UTF_8.newEncoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .encode(CharBuffer.wrap(value));
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(what + " is not valid Unicode (unpaired surrogate): "
                    + value, e);
        }
        return value;
    }

    private static DType dtypeOf(String name, DataType dataType) {
        return switch (dataType) {
            case FLOAT32 -> DType.F32;
            case FLOAT64 -> DType.F64;
            case FLOAT16 -> DType.F16;
            case INT64 -> DType.I64;
            case INT32 -> DType.I32;
            case INT8 -> DType.I8;
            case UINT8 -> DType.U8;
            case BOOLEAN -> DType.BOOL;
            default -> throw new IllegalArgumentException("tensor '" + name + "' has data type " + dataType
                    + ", which the safetensors writer does not support (convert it to FLOAT32 first)");
        };
    }

    private static void swapBytes(byte[] data, int elementBytes) {
        for (int start = 0; start < data.length; start += elementBytes) {
            for (int i = 0, j = elementBytes - 1; i < j; i++, j--) {
                byte tmp = data[start + i];
                data[start + i] = data[start + j];
                data[start + j] = tmp;
            }
        }
    }
}
