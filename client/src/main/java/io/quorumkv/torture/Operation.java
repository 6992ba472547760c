package io.quorumkv.torture;

/**
 * One operation of a recorded history, as a client saw it. A delete is a write of
 * {@code null}; a read's value is what it returned ({@code null}: not found).
 *
 * @param client which client issued it ({@link #FINAL_READER} for the reads after healing)
 * @param invokeNanos monotonic time the request was sent, relative to the run's start
 * @param completeNanos monotonic time the answer came or the client gave up
 */
public record Operation(
    int client, String key, Kind kind, String value, long invokeNanos, long completeNanos, Outcome outcome) {

  /** The client id of the quorum reads taken after every fault was healed. */
  public static final int FINAL_READER = -1;

  public enum Kind {
    READ("read"),
    WRITE("write");

    private final String label;

    Kind(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }

    public static Kind parse(String label) {
      for (Kind kind : values()) {
        if (kind.label.equals(label)) {
          return kind;
        }
      }
      throw new IllegalArgumentException("op must be read or write, not '" + label + "'");
    }
  }

  /**
   * OK: the answer says it happened. FAIL: it definitely did not take effect (a 4xx, or a 503
   * from a write's version query, before any replica was asked to apply it). UNKNOWN: it may
   * or may not have taken effect (timeout, dropped connection, any other 503 on a write).
   */
  public enum Outcome {
    OK("ok"),
    FAIL("fail"),
    UNKNOWN("unknown");

    private final String label;

    Outcome(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }

    public static Outcome parse(String label) {
      for (Outcome outcome : values()) {
        if (outcome.label.equals(label)) {
          return outcome;
        }
      }
      throw new IllegalArgumentException("outcome must be ok, fail or unknown, not '" + label + "'");
    }
  }

  public Operation {
    if (completeNanos < invokeNanos) {
      throw new IllegalArgumentException("an operation cannot complete (" + completeNanos + ") before it is invoked ("
          + invokeNanos + ")");
    }
  }

  public boolean isDelete() {
    return kind == Kind.WRITE && value == null;
  }

  /** A short human-readable form for reports, times in milliseconds. */
  public String describe() {
    String what = kind == Kind.READ ? "read -> " + show(value) : value == null ? "delete" : "write " + show(value);
    return String.format("client %d %s %s [%.3f s .. %.3f s] %s", client, key, what, invokeNanos / 1e9,
        completeNanos / 1e9, outcome.label());
  }

  private static String show(String value) {
    return value == null ? "(absent)" : "'" + value + "'";
  }
}
