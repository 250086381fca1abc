package org.peft4j.io;

import java.io.IOException;

/** A consumer that may throw {@link IOException}, for callbacks that write files. */
@FunctionalInterface
public interface IOConsumer<T> {
    void accept(T value) throws IOException;
}
