package org.peft4j.io;

import java.io.IOException;
import java.nio.file.Path;

/** A safetensors file that cannot be read as one: the message names the file and the problem. */
public class SafetensorsException extends IOException {

    private static final long serialVersionUID = 1L;

    private final transient Path file;

    public SafetensorsException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public SafetensorsException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    public Path file() {
        return file;
    }
}
