package org.peft4j.nn;

import com.sun.jna.Library;
import com.sun.jna.Native;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the native memory that freed tensors leave in the process for the next tensors (glibc).
 *
 * <p>By default glibc serves every large block (a ViT-B MLP activation is 39 MB) with a fresh
 * {@code mmap} and gives it back to the kernel when freed, so each new activation is paid again in
 * page faults: on a 2-core VM an element-wise op over 10 M floats takes 90 ms, of which 3 ms is the
 * arithmetic (PyTorch pays the same). Blocks free their intermediates as soon as they are dead
 * ({@link Module}), which without this made inference 40% slower. With large blocks taken from the heap and the heap never
 * trimmed, the memory a step frees is reused by the next one, as PyTorch's caching allocators do on
 * GPUs; the memory is not handed back to the kernel while the process lives. Set
 * {@code -Dpeft4j.keepFreedMemory=false} to keep glibc's defaults; nothing is done on other C libraries.
 *
 * <p>Set here at run time, this misses the arena the JVM's main thread took at start-up (glibc gives
 * each thread an arena of 64 MB heaps, and a step's large blocks do not fit them well: 50,000 page
 * faults per ViT-B step remain). {@code ./peft4j} and the tests therefore also start the JVM with
 * {@code GLIBC_TUNABLES=glibc.malloc.arena_max=1:glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=4294967296}
 * (2,000 faults per step); programs embedding peft4j can do the same.
 */
public final class NativeMemory {

    private static final Logger LOG = LoggerFactory.getLogger(NativeMemory.class);
    // glibc's malloc.h
    private static final int M_TRIM_THRESHOLD = -1;
    private static final int M_MMAP_MAX = -4;
    private static final int M_ARENA_MAX = -8;
    private static boolean applied;

    /** The C library's {@code mallopt}; a JNA interface because Java 17 has no stable foreign-function API. */
    private interface CLibrary extends Library {
        int mallopt(int param, int value);
    }

    private NativeMemory() {}

    /** Applies the setting once per process (called as the first module class loads); idempotent. */
    public static synchronized void keepFreedMemory() {
        if (applied || !Boolean.parseBoolean(System.getProperty("peft4j.keepFreedMemory", "true"))) {
            return;
        }
        applied = true;
        if (!System.getProperty("os.name", "").startsWith("Linux")) {
            return;
        }
        try {
            CLibrary c = Native.load("c", CLibrary.class);
            // mallopt returns 1 on success; musl and others have no such settings.
            boolean ok = c.mallopt(M_MMAP_MAX, 0) == 1 && c.mallopt(M_TRIM_THRESHOLD, Integer.MAX_VALUE) == 1
                    && c.mallopt(M_ARENA_MAX, 1) == 1;
            LOG.debug("glibc keeps freed memory: {}", ok);
        } catch (LinkageError | RuntimeException e) {
            LOG.debug("mallopt unavailable ({}); the C library's defaults stay", e.toString());
        }
    }
}
