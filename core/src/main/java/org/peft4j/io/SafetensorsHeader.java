package org.peft4j.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parsed and validated header of a safetensors file.
 *
 * <p>Validation follows the reference implementation (huggingface/safetensors {@code
 * read_metadata}): header at most 100 MB, UTF-8 JSON object, every tensor's byte count equal to
 * numel × dtype size, and the tensors, sorted by offset, covering the data section contiguously
 * from its first byte to the end of the file.
 *
 * @param dataStart absolute file position of the data section (8 + header length)
 * @param tensors tensors sorted by data offset
 */
record SafetensorsHeader(long dataStart, Map<String, String> metadata, List<TensorInfo> tensors) {

    static final long MAX_HEADER_BYTES = 100_000_000L;
    static final String METADATA_KEY = "__metadata__";

    static SafetensorsHeader read(Path file, FileChannel channel) throws IOException {
        long fileSize = channel.size();
        if (fileSize < 8) {
            throw new SafetensorsException(file, "file is " + fileSize
                    + " bytes long, shorter than the 8-byte header length prefix");
        }
        ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(file, channel, prefix, 0);
        long headerLength = prefix.getLong(0);
        // A negative long is an unsigned length above 2^63: also too large.
        if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {
            throw new SafetensorsException(file, "header length " + Long.toUnsignedString(headerLength)
                    + " bytes exceeds the limit of " + MAX_HEADER_BYTES + " bytes");
        }
        if (8 + headerLength > fileSize) {
            throw new SafetensorsException(file, "header length " + headerLength
                    + " bytes runs past the end of the file (" + fileSize + " bytes)");
        }
        ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
        readFully(file, channel, headerBytes, 8);
        JsonNode root = parseJson(file, decodeUtf8(file, headerBytes));

        Map<String, String> metadata = new LinkedHashMap<>();
        List<TensorInfo> tensors = new ArrayList<>();
        Iterator<Map.Entry<String, JsonNode>> fields = root.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            if (field.getKey().equals(METADATA_KEY)) {
                parseMetadata(file, field.getValue(), metadata);
            } else {
                tensors.add(parseTensor(file, field.getKey(), field.getValue()));
            }
        }
        long dataStart = 8 + headerLength;
        checkLayout(file, tensors, fileSize - dataStart);
        return new SafetensorsHeader(dataStart, metadata, tensors);
    }

    private static void readFully(Path file, FileChannel channel, ByteBuffer buffer, long position)
            throws IOException {
        while (buffer.hasRemaining()) {
            int read = channel.read(buffer, position + buffer.position());
            if (read < 0) {
                throw new EOFException(file + ": file ended while reading the header");
            }
        }
        buffer.flip();
    }

    private static String decodeUtf8(Path file, ByteBuffer bytes) throws SafetensorsException {
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes);
            return chars.toString();
        } catch (CharacterCodingException e) {
            throw new SafetensorsException(file, "header is not valid UTF-8", e);
        }
    }

    private static JsonNode parseJson(Path file, String json) throws SafetensorsException {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new SafetensorsException(file, "header is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new SafetensorsException(file, "header is not a JSON object");
        }
        return root;
    }

    private static void parseMetadata(Path file, JsonNode node, Map<String, String> metadata)
            throws SafetensorsException {
        if (node.isNull()) {
            return; // the reference reader treats a null __metadata__ as absent
        }
        if (!node.isObject()) {
            throw new SafetensorsException(file, METADATA_KEY + " is not a JSON object");
        }
        Iterator<Map.Entry<String, JsonNode>> entries = node.fields();
        while (entries.hasNext()) {
            Map.Entry<String, JsonNode> entry = entries.next();
            if (!entry.getValue().isTextual()) {
                throw new SafetensorsException(file, METADATA_KEY + " value for '" + entry.getKey()
                        + "' is not a string: " + entry.getValue());
            }
            metadata.put(entry.getKey(), entry.getValue().textValue());
        }
    }

    private static TensorInfo parseTensor(Path file, String name, JsonNode node)
            throws SafetensorsException {
        String where = "tensor '" + name + "'";
        if (!node.isObject()) {
            throw new SafetensorsException(file, where + " is not a JSON object");
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw new SafetensorsException(file, where + " has no string field 'dtype'");
        }
        DType dtype = DType.fromSafetensorsName(dtypeNode.textValue());
        if (dtype == null) {
            throw new SafetensorsException(file, where + " has unknown dtype '" + dtypeNode.textValue()
                    + "' (supported: " + Arrays.toString(DType.values()) + ")");
        }
        long[] shape = parseNonNegativeLongs(file, where, node, "shape", -1);
        long[] offsets = parseNonNegativeLongs(file, where, node, "data_offsets", 2);
        long begin = offsets[0];
        long end = offsets[1];
        if (end < begin) {
            throw new SafetensorsException(file, where + " has data_offsets [" + begin + ", " + end
                    + "] that end before they begin");
        }
        long expectedBytes;
        try {
            expectedBytes = Math.multiplyExact(TensorInfo.numel(shape), dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new SafetensorsException(file, where + " has shape " + Arrays.toString(shape)
                    + " whose size overflows a 64-bit integer");
        }
        if (expectedBytes != end - begin) {
            throw new SafetensorsException(file, where + " of dtype " + dtype + " and shape "
                    + Arrays.toString(shape) + " needs " + expectedBytes + " bytes but data_offsets ["
                    + begin + ", " + end + "] span " + (end - begin));
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    /** Reads an array of non-negative integers; {@code requiredLength} -1 means any length. */
    private static long[] parseNonNegativeLongs(
            Path file, String where, JsonNode tensor, String field, int requiredLength)
            throws SafetensorsException {
        JsonNode node = tensor.get(field);
        if (node == null || !node.isArray()) {
            throw new SafetensorsException(file, where + " has no array field '" + field + "'");
        }
        if (requiredLength >= 0 && node.size() != requiredLength) {
            throw new SafetensorsException(file, where + " field '" + field + "' has " + node.size()
                    + " entries, expected " + requiredLength + ": " + node);
        }
        long[] values = new long[node.size()];
        for (int i = 0; i < values.length; i++) {
            JsonNode item = node.get(i);
            if (!item.isIntegralNumber() || !item.canConvertToLong()) {
                throw new SafetensorsException(file, where + " field '" + field
                        + "' holds something other than a 64-bit integer: " + node);
            }
            if (item.longValue() < 0) {
                throw new SafetensorsException(file, where + " field '" + field
                        + "' holds a negative value: " + node);
            }
            values[i] = item.longValue();
        }
        return values;
    }

    /** Sorts the tensors by offset and checks that they tile the data section exactly. */
    private static void checkLayout(Path file, List<TensorInfo> tensors, long dataLength)
            throws SafetensorsException {
        tensors.sort(Comparator.comparingLong(TensorInfo::begin)
                .thenComparingLong(TensorInfo::end)
                .thenComparing(TensorInfo::name));
        long covered = 0;
        String previous = null;
        for (TensorInfo tensor : tensors) {
            String where = "tensor '" + tensor.name() + "'";
            if (tensor.end() > dataLength) {
                throw new SafetensorsException(file, where + " has data_offsets [" + tensor.begin()
                        + ", " + tensor.end() + "] beyond the data section of " + dataLength + " bytes");
            }
            if (tensor.begin() < covered) {
                throw new SafetensorsException(file, where + " at data_offsets [" + tensor.begin()
                        + ", " + tensor.end() + "] overlaps tensor '" + previous + "', which ends at "
                        + covered);
            }
            if (tensor.begin() > covered) {
                throw new SafetensorsException(file, where + " starts at data offset " + tensor.begin()
                        + " but the previous data ends at " + covered
                        + " (safetensors requires tensors to cover the data section without gaps)");
            }
            covered = tensor.end();
            previous = tensor.name();
        }
        if (covered != dataLength) {
            throw new SafetensorsException(file, "tensors cover " + covered + " bytes but the data section"
                    + " holds " + dataLength + " (safetensors requires the tensors to end at the end of"
                    + " the file)");
        }
    }
}
