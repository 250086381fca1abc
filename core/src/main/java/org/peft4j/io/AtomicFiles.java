package org.peft4j.io;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes files and directories so that readers see either the old or the new content, never a
 * half-written one: data goes to a temporary sibling, is flushed to disk, then renamed into place.
 */
public final class AtomicFiles {

    private static final Logger LOG = LoggerFactory.getLogger(AtomicFiles.class);

    private AtomicFiles() {}

    /**
     * Writes {@code target} from what {@code writer} puts in the stream. If the writer throws, the
     * temporary file is removed and an existing {@code target} is left untouched. The writer may
     * close the stream (Jackson does); that only flushes it. Missing parent directories are created.
     */
    public static void write(Path target, IOConsumer<OutputStream> writer) throws IOException {
        Path dir = parentOf(target);
        Files.createDirectories(dir);
        Path temp = dir.resolve(tempName(target, "tmp"));
        try {
            // Plain CREATE_NEW (not createTempFile) so the file gets the usual umask permissions.
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE)) {
                BufferedOutputStream buffered =
                        new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 16);
                writer.accept(new FlushOnCloseStream(buffered));
                buffered.flush();
                channel.force(true);
            }
            move(temp, target);
        } catch (Throwable e) {
            deleteQuietly(temp, e);
            throw e;
        }
        syncDirectory(dir);
    }

    /** Writes {@code content} as UTF-8, atomically. */
    public static void writeString(Path target, String content) throws IOException {
        byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
        write(target, out -> out.write(bytes));
    }

    /**
     * Replaces the directory {@code targetDir} by one that {@code fillTempDir} fills. The new content
     * is written into a sibling temporary directory; only when that succeeded is the old directory
     * renamed aside, the new one renamed into place, and the old one deleted. If filling fails,
     * {@code targetDir} is untouched. A crash between the two renames leaves the previous version
     * intact as a hidden sibling {@code .NAME.old-*}.
     */
    public static void replaceDirectory(Path targetDir, IOConsumer<Path> fillTempDir) throws IOException {
        Path parent = parentOf(targetDir);
        if (Files.exists(targetDir, LinkOption.NOFOLLOW_LINKS)
                && !Files.isDirectory(targetDir, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(targetDir + " exists and is not a directory; refusing to replace it");
        }
        Files.createDirectories(parent);
        Path temp = Files.createDirectory(parent.resolve(tempName(targetDir, "tmp")));
        try {
            fillTempDir.accept(temp);
            syncTree(temp);
            if (Files.exists(targetDir, LinkOption.NOFOLLOW_LINKS)) {
                swapIn(temp, targetDir);
            } else {
                move(temp, targetDir);
            }
        } catch (Throwable e) {
            deleteQuietly(temp, e);
            throw e;
        }
        syncDirectory(parent);
    }

    private static void swapIn(Path temp, Path targetDir) throws IOException {
        Path old = parentOf(targetDir).resolve(tempName(targetDir, "old"));
        move(targetDir, old);
        try {
            move(temp, targetDir);
        } catch (IOException e) {
            try {
                move(old, targetDir);
            } catch (IOException restoreFailure) {
                e.addSuppressed(restoreFailure);
            }
            throw e;
        }
        try {
            deleteRecursively(old);
        } catch (IOException e) {
            // The new directory is in place; a leftover copy of the old one is only clutter.
            LOG.warn("Could not delete the previous version of {} at {}: {}", targetDir, old, e.toString());
        }
    }

    private static void move(Path source, Path target) throws IOException {
        try {
            Files.move(source, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(source, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static Path parentOf(Path path) {
        Path parent = path.toAbsolutePath().getParent();
        if (parent == null) {
            throw new IllegalArgumentException("cannot write the file system root: " + path);
        }
        return parent;
    }

    private static String tempName(Path target, String kind) {
        return "." + target.getFileName() + "." + kind + "-" + UUID.randomUUID();
    }

    private static void syncTree(Path root) throws IOException {
        List<Path> paths;
        try (Stream<Path> walk = Files.walk(root)) {
            paths = walk.toList();
        }
        for (Path path : paths) {
            if (Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
                try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
                    channel.force(true);
                }
            } else if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
                syncDirectory(path);
            }
        }
    }

    // Makes the rename itself durable. Some platforms (Windows) cannot open a directory; there the
    // rename is as durable as the OS makes it.
    private static void syncDirectory(Path dir) {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            LOG.debug("Could not fsync directory {}: {}", dir, e.toString());
        }
    }

    /** Cleans up after a failure without hiding the failure itself. */
    private static void deleteQuietly(Path path, Throwable failure) {
        try {
            deleteRecursively(path);
        } catch (IOException | RuntimeException cleanupFailure) {
            failure.addSuppressed(cleanupFailure);
        }
    }

    /** Whether {@code dir} is a folder with nothing in it. */
    public static boolean isEmptyDirectory(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.findAny().isEmpty();
        }
    }

    /**
     * Whether a command may write its output folder {@code out} without being asked to replace
     * something: it does not exist, or it is an empty folder.
     */
    public static boolean isFreeOutput(Path out) throws IOException {
        return !Files.exists(out, LinkOption.NOFOLLOW_LINKS) || isEmptyDirectory(out);
    }

    /** Deletes {@code root} and everything under it (symbolic links themselves, not their targets); no-op if absent. */
    public static void deleteRecursively(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        List<Path> paths;
        try (Stream<Path> walk = Files.walk(root)) {
            paths = walk.sorted(Comparator.reverseOrder()).toList();
        }
        for (Path path : paths) {
            Files.deleteIfExists(path);
        }
    }

    /** Lets writers close the stream (as Jackson does) without closing the file before fsync. */
    private static final class FlushOnCloseStream extends OutputStream {
        private final OutputStream out;

        FlushOnCloseStream(OutputStream out) {
            this.out = out;
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
        }

        @Override
        public void write(byte[] bytes, int offset, int length) throws IOException {
            out.write(bytes, offset, length);
        }

        @Override
        public void flush() throws IOException {
            out.flush();
        }

        @Override
        public void close() throws IOException {
            out.flush();
        }
    }
}
