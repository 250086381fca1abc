package org.peft4j.serve;

/** A request the server refuses: its HTTP status and the message of the JSON {@code {"error": ...}} body. */
final class ApiError extends RuntimeException {

    final int status;

    ApiError(int status, String message) {
        super(message);
        this.status = status;
    }
}
