package org.peft4j.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Reads unsigned-byte IDX files (the MNIST format): a big-endian magic 0x0000 08 NN (NN = number of
 * dimensions), NN big-endian int32 sizes, then the data. Gzip is detected by content, not by name.
 */
final class IdxReader {
    static final int IMAGES_MAGIC = 2051; // 0x00000803: ubyte, 3 dims (count, rows, cols)
    static final int LABELS_MAGIC = 2049; // 0x00000801: ubyte, 1 dim (count)

    /** Unsigned-byte array with its dimensions. */
    record IdxArray(int[] dims, byte[] data) {
    }

    private IdxReader() {
    }

    static IdxArray read(Path file, int expectedMagic) {
        try (InputStream in = open(file)) {
            DataInputStream header = new DataInputStream(in);
            int magic = readHeaderInt(header, file, "magic number");
            if (magic != expectedMagic) {
                throw new DataException(String.format("%s: bad magic number %d (0x%08x), expected %d (0x%08x)",
                        file, magic, magic, expectedMagic, expectedMagic));
            }
            int[] dims = new int[expectedMagic & 0xFF];
            long total = 1;
            for (int d = 0; d < dims.length; d++) {
                dims[d] = readHeaderInt(header, file, "size of dimension " + d);
                if (dims[d] < 0) {
                    throw new DataException(file + ": negative size " + dims[d] + " for dimension " + d);
                }
                total *= dims[d];
                if (total > Integer.MAX_VALUE - 8) { // checked per dimension: three int sizes overflow a long
                    throw new DataException(file + ": dimensions " + java.util.Arrays.toString(java.util.Arrays.copyOf(dims, d + 1))
                            + " make more data than one array holds (" + (Integer.MAX_VALUE - 8) + " bytes)");
                }
            }
            byte[] data = in.readNBytes((int) total);
            if (data.length < total) {
                throw new DataException(file + ": truncated, expected " + total + " data bytes after the header, found "
                        + data.length);
            }
            if (in.read() != -1) {
                throw new DataException(file + ": unexpected bytes after the " + total + " data bytes the header declares");
            }
            return new IdxArray(dims, data);
        } catch (EOFException e) {
            throw new DataException(file + ": truncated or corrupt gzip data", e);
        } catch (IOException e) {
            throw new DataException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    private static InputStream open(Path file) throws IOException {
        InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        raw.mark(2);
        boolean gzip = raw.read() == 0x1f && raw.read() == 0x8b;
        raw.reset();
        return gzip ? new BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16) : raw;
    }

    private static int readHeaderInt(DataInputStream in, Path file, String what) throws IOException {
        try {
            return in.readInt();
        } catch (EOFException e) {
            throw new DataException(file + ": truncated header, missing " + what, e);
        }
    }
}
