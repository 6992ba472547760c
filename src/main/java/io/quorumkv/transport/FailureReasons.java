package io.quorumkv.transport;

import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;

/** Turns the failure of a call to a peer into one line for logs, /cluster and 503 bodies. */
public final class FailureReasons {

  private static final String AKKA_TCP_WRAPPER = "failed because of ";

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
    if (message == null || message.isBlank()) {
      return cause.getClass().getSimpleName();
    }
    // Akka's TCP errors wrap the useful part: "Tcp command [Connect(...)] failed because of X".
    int wrapped = message.indexOf(AKKA_TCP_WRAPPER);
    return wrapped < 0 ? message : message.substring(wrapped + AKKA_TCP_WRAPPER.length());
  }
}
