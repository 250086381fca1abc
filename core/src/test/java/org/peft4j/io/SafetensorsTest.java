package org.peft4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SafetensorsTest {

    @TempDir
    Path dir;

    // ---------------------------------------------------------------- exact bytes

    @Test
    void singleTensorWithoutMetadataMatchesReferenceBytes() throws IOException {
        // Python: save_file({"attn.0": torch.arange(6.).reshape(1, 2, 3)}, f) with metadata=None.
        // The 64-byte header needs no padding.
        Path file = dir.resolve("attn.safetensors");
        new SafetensorsWriter().clearMetadata()
                .add("attn.0", new float[] {0, 1, 2, 3, 4, 5}, 1, 2, 3)
                .write(file);
        byte[] expected = concat(
                new byte[] {64, 0, 0, 0, 0, 0, 0, 0},
                ascii("{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}"),
                new byte[] {0, 0, 0, 0, 0, 0, (byte) 0x80, 0x3F, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40,
                    0, 0, (byte) 0x80, 0x40, 0, 0, (byte) 0xA0, 0x40});
        assertArrayEquals(expected, Files.readAllBytes(file));
    }

    @Test
    void emptyFileMatchesReferenceBytes() throws IOException {
        Path file = dir.resolve("empty.safetensors");
        new SafetensorsWriter().clearMetadata().write(file);
        // "{}" padded with six spaces to 8 bytes.
        assertArrayEquals(concat(new byte[] {8, 0, 0, 0, 0, 0, 0, 0}, ascii("{}      ")),
                Files.readAllBytes(file));
        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            assertEquals(List.of(), reader.names());
            assertEquals(Map.of(), reader.metadata());
        }
    }

    @Test
    void mixedDtypesAreLaidOutByDescendingAlignmentThenName() throws IOException {
        // The reference writer sorts by dtype (I64 > F32 > BOOL), then name; "__metadata__" comes
        // first. The 205-byte header is padded with 3 spaces to 208 = 0xD0.
        Path file = dir.resolve("mixed.safetensors");
        new SafetensorsWriter()
                .add("weight", new float[] {1.0f, -2.0f}, 2)
                .add("mask", DType.BOOL, new long[] {3}, new byte[] {1, 0, 1})
                .add("ids", DType.I64, new long[] {1}, new byte[] {7, 0, 0, 0, 0, 0, 0, 0})
                .write(file);
        byte[] expected = concat(
                new byte[] {(byte) 0xD0, 0, 0, 0, 0, 0, 0, 0},
                ascii("{\"__metadata__\":{\"format\":\"pt\"},"
                        + "\"ids\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]},"
                        + "\"weight\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]},"
                        + "\"mask\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[16,19]}}   "),
                new byte[] {7, 0, 0, 0, 0, 0, 0, 0},
                new byte[] {0, 0, (byte) 0x80, 0x3F, 0, 0, 0, (byte) 0xC0},
                new byte[] {1, 0, 1});
        assertArrayEquals(expected, Files.readAllBytes(file));
        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            assertEquals(List.of("ids", "weight", "mask"), reader.names());
            assertEquals(new TensorInfo("weight", DType.F32, new long[] {2}, 8, 16), reader.info("weight"));
        }
    }

    // ---------------------------------------------------------------- round trips

    @Test
    void everyDtypeRoundTrips() throws IOException {
        Path file = dir.resolve("all.safetensors");
        long[] shape = {2, 3};
        Map<DType, byte[]> bytes = new LinkedHashMap<>();
        bytes.put(DType.F32, le(6 * 4, b -> b.putFloat(0.5f).putFloat(-1f).putFloat(3e-8f)
                .putFloat(Float.MAX_VALUE).putFloat(-0f).putFloat(7f)));
        bytes.put(DType.F64, le(6 * 8, b -> b.putDouble(0.5).putDouble(-1).putDouble(1e300)
                .putDouble(0.1).putDouble(-0.0).putDouble(7)));
        bytes.put(DType.F16, le(6 * 2, b -> b.putShort((short) 0x3800).putShort((short) 0xBC00)
                .putShort((short) 0x0001).putShort((short) 0x7BFF).putShort((short) 0x8000).putShort((short) 0x4700)));
        bytes.put(DType.BF16, le(6 * 2, b -> b.putShort((short) 0x3F00).putShort((short) 0xBF80)
                .putShort((short) 0x0001).putShort((short) 0x7F7F).putShort((short) 0x8000).putShort((short) 0x40E0)));
        bytes.put(DType.I64, le(6 * 8, b -> b.putLong(0).putLong(-1).putLong(Long.MAX_VALUE)
                .putLong(Long.MIN_VALUE).putLong(1L << 40).putLong(7)));
        bytes.put(DType.I32, le(6 * 4, b -> b.putInt(0).putInt(-1).putInt(Integer.MAX_VALUE)
                .putInt(Integer.MIN_VALUE).putInt(1 << 20).putInt(7)));
        bytes.put(DType.I16, le(6 * 2, b -> b.putShort((short) 0).putShort((short) -1).putShort(Short.MAX_VALUE)
                .putShort(Short.MIN_VALUE).putShort((short) 300).putShort((short) 7)));
        bytes.put(DType.I8, new byte[] {0, -1, 127, -128, 30, 7});
        bytes.put(DType.U8, new byte[] {0, (byte) 255, 127, (byte) 128, 30, 7});
        bytes.put(DType.BOOL, new byte[] {0, 1, 1, 0, 1, 0});

        SafetensorsWriter writer = new SafetensorsWriter();
        bytes.forEach((dtype, data) -> writer.add(dtype.name().toLowerCase(), dtype, shape, data));
        writer.add("scalar", new float[] {42f});
        writer.add("empty", DType.F32, new long[] {0, 3}, new byte[0]);
        writer.write(file);

        Map<DType, float[]> floats = Map.of(
                DType.F32, new float[] {0.5f, -1f, 3e-8f, Float.MAX_VALUE, -0f, 7f},
                DType.F64, new float[] {0.5f, -1f, Float.POSITIVE_INFINITY, 0.1f, -0f, 7f},
                DType.F16, new float[] {0.5f, -1f, 0x1p-24f, 65504f, -0f, 7f},
                DType.BF16, new float[] {0.5f, -1f, 0x1p-133f, 0x1.FEp127f, -0f, 7f});
        Map<DType, long[]> longs = Map.of(
                DType.I64, new long[] {0, -1, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 40, 7},
                DType.I32, new long[] {0, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, 1 << 20, 7},
                DType.I16, new long[] {0, -1, Short.MAX_VALUE, Short.MIN_VALUE, 300, 7},
                DType.I8, new long[] {0, -1, 127, -128, 30, 7},
                DType.U8, new long[] {0, 255, 127, 128, 30, 7},
                DType.BOOL, new long[] {0, 1, 1, 0, 1, 0});

        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            for (DType dtype : DType.values()) {
                String name = dtype.name().toLowerCase();
                TensorInfo info = reader.info(name);
                assertEquals(dtype, info.dtype(), name);
                assertArrayEquals(shape, info.shape(), name);
                assertEquals(6, info.numel(), name);
                assertEquals(6L * dtype.byteSize(), info.byteSize(), name);
                ByteBuffer raw = reader.rawBytes(name);
                assertEquals(ByteOrder.LITTLE_ENDIAN, raw.order());
                byte[] rawCopy = new byte[raw.remaining()];
                raw.get(rawCopy);
                assertArrayEquals(bytes.get(dtype), rawCopy, name);
                if (dtype.isFloatingPoint()) {
                    assertArrayEquals(floats.get(dtype), reader.readFloats(name), name);
                    assertThrows(IllegalArgumentException.class, () -> reader.readLongs(name));
                } else {
                    long[] expected = longs.get(dtype);
                    assertArrayEquals(expected, reader.readLongs(name), name);
                    float[] asFloats = new float[expected.length];
                    for (int i = 0; i < expected.length; i++) {
                        asFloats[i] = expected[i];
                    }
                    assertArrayEquals(asFloats, reader.readFloats(name), name);
                }
            }
            assertArrayEquals(new long[0], reader.info("scalar").shape());
            assertArrayEquals(new float[] {42f}, reader.readFloats("scalar"));
            assertEquals(0, reader.info("empty").numel());
            assertArrayEquals(new float[0], reader.readFloats("empty"));
        }
    }

    @Test
    void halfPrecisionWideningMatchesKnownBitPatterns() throws IOException {
        short[] f16 = {0x3C00, 0x7BFF, 0x0001, 0x03FF, 0x0400, 0x3555, (short) 0xC000, (short) 0x8000,
            0x7C00, (short) 0xFC00, 0x7E00};
        float[] f16Expected = {1f, 65504f, 5.9604645e-8f, 6.097555e-5f, 6.1035156e-5f, 0.33325195f, -2f, -0f,
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN};
        short[] bf16 = {0x3F80, (short) 0xC000, 0x4049, 0x0001, 0x7F80, (short) 0xFF80, 0x7FC0};
        float[] bf16Expected = {1f, -2f, 3.140625f, 9.18355e-41f, Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY, Float.NaN};

        Path file = dir.resolve("half.safetensors");
        new SafetensorsWriter()
                .add("f16", DType.F16, new long[] {f16.length}, shorts(f16))
                .add("bf16", DType.BF16, new long[] {bf16.length}, shorts(bf16))
                .write(file);
        try (SafetensorsReader reader = SafetensorsReader.open(file);
                NDManager manager = NDManager.newBaseManager()) {
            assertArrayEquals(f16Expected, reader.readFloats("f16"));
            assertArrayEquals(bf16Expected, reader.readFloats("bf16"));
            // A BF16 NDArray would abort the JVM; the reader must hand DJL widened FLOAT32 data.
            NDArray bf16Array = reader.readNDArray("bf16", manager);
            assertEquals(DataType.FLOAT32, bf16Array.getDataType());
            assertArrayEquals(bf16Expected, bf16Array.toFloatArray());
            NDArray f16Array = reader.readNDArray("f16", manager);
            assertEquals(DataType.FLOAT32, f16Array.getDataType());
            assertArrayEquals(f16Expected, f16Array.toFloatArray());
        }
    }

    @Test
    void segmentedReadsGiveTheSameValues() throws IOException {
        Path file = dir.resolve("segments.safetensors");
        float[] values = new float[37];
        for (int i = 0; i < values.length; i++) {
            values[i] = i * 0.25f - 3;
        }
        new SafetensorsWriter()
                .add("f32", values, values.length)
                .add("i64", DType.I64, new long[] {5}, le(40, b -> {
                    for (long v = -2; v < 3; v++) {
                        b.putLong(v * 1_000_000_000_000L);
                    }
                }))
                .add("bf16", DType.BF16, new long[] {3}, shorts(new short[] {0x3F80, 0x4000, 0x4040}))
                .write(file);
        try (SafetensorsReader reader = SafetensorsReader.open(file, 10)) {
            assertArrayEquals(values, reader.readFloats("f32"));
            assertArrayEquals(new long[] {-2_000_000_000_000L, -1_000_000_000_000L, 0,
                1_000_000_000_000L, 2_000_000_000_000L}, reader.readLongs("i64"));
            assertArrayEquals(new float[] {1f, 2f, 3f}, reader.readFloats("bf16"));
        }
    }

    @Test
    void metadataRoundTrips() throws IOException {
        Path file = dir.resolve("meta.safetensors");
        String note = "caf\u00e9 \"quoted\" \\ line\nend\u0001";
        new SafetensorsWriter()
                .metadata("peft_type", "LORA")
                .metadata("note", note)
                .add("w", new float[] {1f}, 1)
                .write(file);
        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            assertEquals(Map.of("format", "pt", "note", note, "peft_type", "LORA"), reader.metadata());
            assertEquals(List.of("format", "note", "peft_type"), List.copyOf(reader.metadata().keySet()));
        }
        // serde_json escapes only quote, backslash and control characters; UTF-8 stays raw.
        String header = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        assertTrue(header.contains("\"note\":\"caf\u00e9 \\\"quoted\\\" \\\\ line\\nend\\u0001\""), header);
    }

    @Test
    void ndArraysRoundTrip() throws IOException {
        Path file = dir.resolve("arrays.safetensors");
        try (NDManager manager = NDManager.newBaseManager()) {
            Map<String, NDArray> arrays = new LinkedHashMap<>();
            arrays.put("f32", manager.create(new float[] {1.5f, -2f, 3f, 0.125f}, new Shape(2, 2)));
            arrays.put("f64", manager.create(new double[] {0.5, -0.25}, new Shape(2)));
            arrays.put("f16", manager.create(new float[] {0.5f, -1.25f, 2048f}).toType(DataType.FLOAT16, false));
            arrays.put("i64", manager.create(new long[] {Long.MIN_VALUE, 5}, new Shape(1, 2)));
            arrays.put("i32", manager.create(new int[] {-3, 4, 5}));
            arrays.put("i8", manager.create(ByteBuffer.wrap(new byte[] {-1, 2}), new Shape(2), DataType.INT8));
            arrays.put("u8", manager.create(ByteBuffer.wrap(new byte[] {(byte) 200, 2}), new Shape(2),
                    DataType.UINT8));
            arrays.put("bool", manager.create(new boolean[] {true, false, true}));
            SafetensorsWriter writer = new SafetensorsWriter();
            arrays.forEach(writer::add);
            writer.write(file);

            try (SafetensorsReader reader = SafetensorsReader.open(file)) {
                assertEquals(DType.F16, reader.info("f16").dtype());
                assertEquals(DType.F64, reader.info("f64").dtype());
                Map<String, NDArray> read = reader.readAll(manager);
                assertEquals(arrays.keySet(), Set.copyOf(read.keySet()));
                assertEquals(DataType.FLOAT32, read.get("f32").getDataType());
                assertEquals(new Shape(2, 2), read.get("f32").getShape());
                assertArrayEquals(new float[] {1.5f, -2f, 3f, 0.125f}, read.get("f32").toFloatArray());
                assertEquals(DataType.FLOAT32, read.get("f64").getDataType());
                assertArrayEquals(new float[] {0.5f, -0.25f}, read.get("f64").toFloatArray());
                assertEquals(DataType.FLOAT32, read.get("f16").getDataType());
                assertArrayEquals(new float[] {0.5f, -1.25f, 2048f}, read.get("f16").toFloatArray());
                assertEquals(DataType.INT64, read.get("i64").getDataType());
                assertEquals(new Shape(1, 2), read.get("i64").getShape());
                assertArrayEquals(new long[] {Long.MIN_VALUE, 5}, read.get("i64").toLongArray());
                assertEquals(DataType.INT32, read.get("i32").getDataType());
                assertArrayEquals(new int[] {-3, 4, 5}, read.get("i32").toIntArray());
                assertEquals(DataType.INT8, read.get("i8").getDataType());
                assertArrayEquals(new byte[] {-1, 2}, read.get("i8").toByteArray());
                assertEquals(DataType.UINT8, read.get("u8").getDataType());
                assertArrayEquals(new int[] {200, 2}, read.get("u8").toUint8Array());
                assertEquals(DataType.BOOLEAN, read.get("bool").getDataType());
                assertArrayEquals(new boolean[] {true, false, true}, read.get("bool").toBooleanArray());
            }
        }
    }

    // ---------------------------------------------------------------- > 2 GiB

    @Test
    void readsTensorsBeyondTwoGibibytesFromSparseFile() throws IOException {
        long filler = (1L << 31) + 8;
        String header = pad("{\"filler\":{\"dtype\":\"U8\",\"shape\":[" + filler + "],\"data_offsets\":[0," + filler
                + "]},\"small\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[" + filler + ","
                + (filler + 16) + "]}}");
        Path file = dir.resolve("big.safetensors");
        long dataStart = 8 + header.length();
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            try {
                raf.setLength(dataStart + filler + 16);
            } catch (IOException e) {
                assumeTrue(false, "file system refused a sparse 2.2 GiB file: " + e);
            }
            raf.write(le(8, b -> b.putLong(header.length())));
            raf.write(ascii(header));
            raf.seek(dataStart + filler);
            raf.write(le(16, b -> b.putFloat(1f).putFloat(-2f).putFloat(3.5f).putFloat(1e-3f)));
        }
        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            assertEquals(List.of("filler", "small"), reader.names());
            assertArrayEquals(new float[] {1f, -2f, 3.5f, 1e-3f}, reader.readFloats("small"));
            assertEquals(16, reader.rawBytes("small").remaining());
            SafetensorsException e = assertThrows(SafetensorsException.class, () -> reader.rawBytes("filler"));
            assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        }
    }

    // ---------------------------------------------------------------- bad files

    static Stream<Arguments> badHeaders() {
        String f32 = "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]";
        return Stream.of(
                Arguments.of("not JSON", "{\"a\":", 0, "not valid JSON"),
                Arguments.of("JSON array", "[]", 0, "not a JSON object"),
                Arguments.of("empty header", "", 0, "not a JSON object"),
                Arguments.of("duplicate key", "{\"a\":{" + f32 + "},\"a\":{" + f32 + "}}", 4, "Duplicate"),
                Arguments.of("trailing content", "{} {}", 0, "not valid JSON"),
                Arguments.of("entry not object", "{\"a\":3}", 0, "'a' is not a JSON object"),
                Arguments.of("missing dtype", "{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "'dtype'"),
                Arguments.of("missing shape", "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "'shape'"),
                Arguments.of("missing offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "'data_offsets'"),
                Arguments.of("unknown dtype", "{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[4],\"data_offsets\":[0,4]}}",
                        4, "unknown dtype 'F8_E4M3'"),
                Arguments.of("negative dim", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1,2],\"data_offsets\":[0,4]}}",
                        4, "negative"),
                Arguments.of("fractional dim", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}",
                        4, "64-bit integer"),
                Arguments.of("three offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}",
                        4, "expected 2"),
                Arguments.of("end before begin", "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,0]}}",
                        4, "end before"),
                Arguments.of("size mismatch", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}",
                        4, "needs 8 bytes"),
                Arguments.of("numel overflow", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],"
                        + "\"data_offsets\":[0,4]}}", 4, "overflows"),
                Arguments.of("beyond data section", "{\"a\":{" + f32 + "}}", 0, "beyond the data section"),
                Arguments.of("overlap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlaps tensor 'a'"),
                Arguments.of("gap", "{\"a\":{" + f32 + "},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12, "without gaps"),
                Arguments.of("gap at start", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                        8, "without gaps"),
                Arguments.of("trailing data", "{\"a\":{" + f32 + "}}", 8, "cover 4 bytes"),
                Arguments.of("metadata not strings", "{\"__metadata__\":{\"epoch\":3}}", 0, "not a string"),
                Arguments.of("metadata not object", "{\"__metadata__\":[]}", 0, "__metadata__ is not"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badHeaders")
    void badHeaderIsRejectedNamingTheFile(String label, String header, int dataBytes, String problem)
            throws IOException {
        Path file = dir.resolve(label.replace(' ', '_') + ".safetensors");
        byte[] headerBytes = ascii(header);
        Files.write(file, concat(le(8, b -> b.putLong(headerBytes.length)), headerBytes, new byte[dataBytes]));
        assertRejected(file, problem);
    }

    @Test
    void badFramingIsRejectedNamingTheFile() throws IOException {
        Path tooShort = dir.resolve("short.safetensors");
        Files.write(tooShort, new byte[] {1, 2, 3, 4, 5});
        assertRejected(tooShort, "shorter than the 8-byte");

        Path hugeHeader = dir.resolve("huge.safetensors");
        Files.write(hugeHeader, concat(le(8, b -> b.putLong(100_000_001)), ascii("{}")));
        assertRejected(hugeHeader, "exceeds the limit");

        Path unsignedHeader = dir.resolve("unsigned.safetensors");
        Files.write(unsignedHeader, le(8, b -> b.putLong(-1)));
        assertRejected(unsignedHeader, "18446744073709551615 bytes exceeds");

        Path pastEnd = dir.resolve("past_end.safetensors");
        Files.write(pastEnd, concat(le(8, b -> b.putLong(100)), ascii("{}")));
        assertRejected(pastEnd, "runs past the end of the file");

        Path notUtf8 = dir.resolve("latin1.safetensors");
        Files.write(notUtf8, concat(le(8, b -> b.putLong(4)), new byte[] {'{', (byte) 0xE9, '}', ' '}));
        assertRejected(notUtf8, "not valid UTF-8");
    }

    @Test
    void readerErrorsNameTheFileAndTensor() throws IOException {
        Path file = dir.resolve("names.safetensors");
        new SafetensorsWriter().add("encoder.weight", new float[] {1f}, 1).write(file);
        SafetensorsReader reader = SafetensorsReader.open(file);
        assertTrue(reader.contains("encoder.weight"));
        assertFalse(reader.contains("decoder.weight"));
        IllegalArgumentException unknown =
                assertThrows(IllegalArgumentException.class, () -> reader.info("decoder.weight"));
        assertTrue(unknown.getMessage().contains(file.toString()), unknown.getMessage());
        assertTrue(unknown.getMessage().contains("'decoder.weight'"), unknown.getMessage());
        assertTrue(unknown.getMessage().contains("encoder.weight"), unknown.getMessage());
        IllegalArgumentException notIntegral =
                assertThrows(IllegalArgumentException.class, () -> reader.readLongs("encoder.weight"));
        assertTrue(notIntegral.getMessage().contains("F32"), notIntegral.getMessage());
        reader.close();
        assertThrows(IllegalStateException.class, () -> reader.readFloats("encoder.weight"));
    }

    @Test
    void writerRejectsBadInput() {
        SafetensorsWriter writer = new SafetensorsWriter().add("a", new float[] {1f}, 1);
        assertThrows(IllegalArgumentException.class, () -> writer.add("a", new float[] {2f}, 1));
        assertThrows(IllegalArgumentException.class, () -> writer.add("__metadata__", new float[] {2f}, 1));
        assertThrows(IllegalArgumentException.class, () -> writer.add("b", new float[] {1f, 2f}, 3));
        assertThrows(IllegalArgumentException.class, () -> writer.add("c", DType.I32, new long[] {2}, new byte[4]));
        assertThrows(IllegalArgumentException.class, () -> writer.add("d", new float[] {1f}, -1));
        assertThrows(IllegalArgumentException.class, () -> writer.add("\uD800", new float[] {1f}, 1));
    }

    @Test
    void failedWriteKeepsPreviousFile() throws IOException {
        Path file = dir.resolve("keep.safetensors");
        new SafetensorsWriter().add("w", new float[] {1f}, 1).write(file);
        byte[] before = Files.readAllBytes(file);
        Files.createDirectory(dir.resolve("blocker.safetensors"));
        Files.writeString(dir.resolve("blocker.safetensors/x"), "x");
        // Writing over a non-empty directory fails at the rename; nothing else may change.
        assertThrows(IOException.class,
                () -> new SafetensorsWriter().add("w", new float[] {2f}, 1).write(dir.resolve("blocker.safetensors")));
        assertArrayEquals(before, Files.readAllBytes(file));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(2, files.count(), "no temporary file left behind");
        }
    }

    // ---------------------------------------------------------------- helpers

    private static void assertRejected(Path file, String problem) {
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> SafetensorsReader.open(file).close());
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(problem), e.getMessage());
        assertEquals(file, e.file());
    }

    private interface BufferFiller {
        void fill(ByteBuffer buffer);
    }

    private static byte[] le(int size, BufferFiller filler) {
        ByteBuffer buffer = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        filler.fill(buffer);
        assertFalse(buffer.hasRemaining(), "test helper filled the wrong number of bytes");
        return buffer.array();
    }

    private static byte[] shorts(short[] values) {
        return le(values.length * 2, b -> {
            for (short v : values) {
                b.putShort(v);
            }
        });
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    private static String pad(String header) {
        return header + " ".repeat((8 - header.length() % 8) % 8);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }
}
