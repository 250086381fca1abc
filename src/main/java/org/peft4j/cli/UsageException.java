package org.peft4j.cli;

/** Bad input the user can fix (an adapter of another method, options that do not fit): exit code 2. */
final class UsageException extends RuntimeException {

    UsageException(String message) {
        super(message);
    }
}
