package io.quorumkv.client;

/**
 * Why a request failed. Each kind of failure is its own subclass, so callers can tell a
 * request that must not be retried (rejected) from one worth retrying ({@link #isRetryable}).
 */
public abstract sealed class KvException extends RuntimeException
    permits KvException.Rejected, KvException.Unavailable, KvException.Unreachable,
        KvException.TimedOut, KvException.UnexpectedResponse {

  private KvException(String message, Throwable cause) {
    super(message, cause);
  }

  /** Whether the same request may succeed later (a replica or quorum may come back). */
  public abstract boolean isRetryable();

  /** The replica refused the request (4xx): it was not applied; retrying it is pointless. */
  public static final class Rejected extends KvException {
    private final int status;

    public Rejected(int status, String message) {
      super("rejected (" + status + "): " + message, null);
      this.status = status;
    }

    public int status() {
      return status;
    }

    @Override
    public boolean isRetryable() {
      return false;
    }
  }

  /**
   * The replica answered 503: no quorum in time, or overloaded. For a write, {@link
   * #isIndeterminate()} says whether the value may still become visible.
   */
  public static final class Unavailable extends KvException {
    private final boolean indeterminate;

    public Unavailable(String message, boolean indeterminate) {
      super("unavailable (503): " + message, null);
      this.indeterminate = indeterminate;
    }

    public boolean isIndeterminate() {
      return indeterminate;
    }

    @Override
    public boolean isRetryable() {
      return true;
    }
  }

  /** No connection to the node (refused, reset, unknown host): the request was not served. */
  public static final class Unreachable extends KvException {
    public Unreachable(NodeAddress node, Throwable cause) {
      super("cannot reach " + node + ": " + cause.getMessage(), cause);
    }

    @Override
    public boolean isRetryable() {
      return true;
    }
  }

  /** No answer within the client's timeout; a write may or may not have been applied. */
  public static final class TimedOut extends KvException {
    public TimedOut(NodeAddress node, java.time.Duration timeout) {
      super("no answer from " + node + " within " + timeout.toMillis() + " ms", null);
    }

    @Override
    public boolean isRetryable() {
      return true;
    }
  }

  /** An answer the client does not understand (e.g. a 500). */
  public static final class UnexpectedResponse extends KvException {
    public UnexpectedResponse(String message) {
      super(message, null);
    }

    @Override
    public boolean isRetryable() {
      return false;
    }
  }
}
