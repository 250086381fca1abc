package org.peft4j.data;

import java.nio.file.Path;

/** The package-private IDX reader, for the loader fuzz test. */
public final class FuzzAccess {

    private FuzzAccess() {}

    public static void readIdxImages(Path file) {
        IdxReader.read(file, IdxReader.IMAGES_MAGIC);
    }
}
