package org.peft4j.data;

/** Bad or unreadable data: the message names the file or dataset and what is wrong with it. */
public final class DataException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public DataException(String message) {
        super(message);
    }

    public DataException(String message, Throwable cause) {
        super(message, cause);
    }
}
