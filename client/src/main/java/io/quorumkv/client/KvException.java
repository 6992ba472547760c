package io.quorumkv.client;

/**
 * Why a request failed. Each kind of failure is its own subclass, so callers can tell a
 * request that must not be retried (rejected) from one worth retrying ({@link #isRetryable}).
 */
public abstract sealed class KvException extends RuntimeException
    permits KvException.Rejected, KvException.PreconditionFailed, KvException.Unavailable, KvException.Unreachable,
        KvException.TimedOut, KvException.UnexpectedResponse {

  private KvException(String message, Throwable cause) {
    super(message, cause);
  }

  /** Whether the same request may succeed later (a replica or quorum may come back). */
  public abstract boolean isRetryable();

  /**
   * For a write: whether it may have been applied (and may still become visible, even after
   * later writes). False only when the replica said so, or the request never left this client.
   */
  public abstract boolean mayHaveBeenApplied();

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

    @Override
    public boolean mayHaveBeenApplied() {
      return false;
    }
  }

  /**
   * A conditional request's condition did not hold (412): nothing was changed. {@code currentVersion}
   * is the key's committed version, empty when it is absent or deleted.
   */
  public static final class PreconditionFailed extends KvException {
    private final String key;
    private final java.util.Optional<String> currentVersion;

    public PreconditionFailed(String key, java.util.Optional<String> currentVersion) {
      super("precondition failed: " + key + " is " + currentVersion.map(v -> "at version " + v).orElse("absent"), null);
      this.key = key;
      this.currentVersion = currentVersion;
    }

    public String key() {
      return key;
    }

    public java.util.Optional<String> currentVersion() {
      return currentVersion;
    }

    @Override
    public boolean isRetryable() {
      return false;
    }

    @Override
    public boolean mayHaveBeenApplied() {
      return false;
    }
  }

  /**
   * The replica answered 503: no quorum in time, overloaded, or its clock fenced. For a write,
   * {@link #isIndeterminate()} says whether the value may still become visible: true unless
   * the answer said {@code "outcome":"not-applied"} (an answer without it is assumed
   * indeterminate, the safe side).
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

    @Override
    public boolean mayHaveBeenApplied() {
      return indeterminate;
    }
  }

  /**
   * The connection failed: refused before anything was sent (not applied), or reset or closed
   * after the request may have been sent (a write may have been applied).
   */
  public static final class Unreachable extends KvException {
    private final boolean maybeSent;

    public Unreachable(NodeAddress node, Throwable cause) {
      super("cannot reach " + node + ": " + cause.getMessage(), cause);
      this.maybeSent = !refusedBeforeSending(cause);
    }

    private static boolean refusedBeforeSending(Throwable cause) {
      for (Throwable at = cause; at != null; at = at.getCause()) {
        // Akka reports a failed connection attempt (refused, timed out, no route) as a failed
        // "Tcp command [Connect(...)]": the request never left.
        if (at instanceof java.net.ConnectException || at instanceof java.net.UnknownHostException
            || at instanceof akka.stream.StreamTcpException && (String.valueOf(at.getMessage()).contains("refused")
                || String.valueOf(at.getMessage()).startsWith("Tcp command [Connect("))) {
          return true;
        }
      }
      return false;
    }

    @Override
    public boolean isRetryable() {
      return true;
    }

    @Override
    public boolean mayHaveBeenApplied() {
      return maybeSent;
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

    @Override
    public boolean mayHaveBeenApplied() {
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

    @Override
    public boolean mayHaveBeenApplied() {
      return true;
    }
  }
}
