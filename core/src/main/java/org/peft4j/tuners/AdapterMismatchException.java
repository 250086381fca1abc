package org.peft4j.tuners;

import java.io.IOException;

/** An adapter folder that does not fit: another method, another model shape, a config it cannot be built from. */
public class AdapterMismatchException extends IOException {

    public AdapterMismatchException(String message) {
        super(message);
    }

    public AdapterMismatchException(String message, Throwable cause) {
        super(message, cause);
    }
}
