package org.peft4j.cli;

/** Bad input the user can fix (an adapter of another method, options that do not fit): exit code 2. */
public final class UsageException extends RuntimeException {

    public UsageException(String message) {
        super(message);
    }
}
