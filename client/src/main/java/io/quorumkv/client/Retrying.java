package io.quorumkv.client;

import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * Repeats an operation while it fails in a retryable way ({@link KvException#isRetryable()}),
 * until a deadline: how the scenario waits for replicas that are still starting.
 */
final class Retrying {

  private static final Duration PAUSE = Duration.ofMillis(250);

  private Retrying() {}

  /**
   * @throws KvException the last failure, when it is not retryable or the deadline passed
   */
  static <T> T until(long deadlineNanos, Supplier<CompletionStage<T>> operation) {
    while (true) {
      try {
        return operation.get().toCompletableFuture().join();
      } catch (CompletionException e) {
        KvException failure = e.getCause() instanceof KvException known
            ? known : new KvException.UnexpectedResponse(String.valueOf(e.getCause()));
        if (!failure.isRetryable() || System.nanoTime() + PAUSE.toNanos() > deadlineNanos) {
          throw failure;
        }
        sleep(PAUSE);
      }
    }
  }

  private static void sleep(Duration pause) {
    try {
      Thread.sleep(pause.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting to retry", e);
    }
  }
}
