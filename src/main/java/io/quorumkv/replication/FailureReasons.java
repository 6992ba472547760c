package io.quorumkv.replication;

import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;

/** Turns the failure of a call to a peer into one line for logs, /cluster and 503 bodies. */
public final class FailureReasons {

  private FailureReasons() {}

  public static String describe(Throwable failure) {
    Throwable cause = failure;
    while (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof TimeoutException) {
      return "no answer in time";
    }
    String message = cause.getMessage();
    return message == null || message.isBlank() ? cause.getClass().getSimpleName() : message;
  }
}
