package io.quorumkv.torture;

/**
 * One operation of a recorded history, as a client saw it. A delete is a write of
 * {@code null}; a read's value is what it returned ({@code null}: not found). A conditional
 * write ({@link Kind#CAS}) writes {@code value} if the key holds {@code expected} ({@code null}:
 * absent); one answered 412 ({@link Kind#CAS_REFUSED}) saw the key hold something else.
 *
 * @param client which client issued it ({@link #FINAL_READER} for the reads after healing)
 * @param invokeNanos monotonic time the request was sent, relative to the run's start
 * @param completeNanos monotonic time the answer came or the client gave up
 */
public record Operation(
    int client, String key, Kind kind, String value, long invokeNanos, long completeNanos, Outcome outcome,
    String expected) {

  /** The client id of the quorum reads taken after every fault was healed. */
  public static final int FINAL_READER = -1;
  /** The client id of {@link Kind#EXPIRE} operations. */
  public static final int EXPIRY = -2;

  /**
   * The expiry of {@code value}, written to {@code key} with a TTL of {@code ttlMillis} by an
   * operation invoked at {@code invokeNanos} and answered (or given up) at {@code completeNanos},
   * for a cluster whose {@code max-clock-offset} is {@code maxOffsetMillis}. Its window in real
   * time: the version was taken between invocation and completion by a clock off real time by at
   * most the offset (plus a tenth of it, the mark step), and a coordinator judges expiry by a
   * clock as far off, so the value is present to every coordinator before the window and
   * expired to every one after it.
   */
  public static Operation expiry(String key, String value, long ttlMillis, long invokeNanos, long completeNanos,
      long maxOffsetMillis) {
    long slackNanos = (2 * maxOffsetMillis + Math.max(1, maxOffsetMillis / 10)) * 1_000_000L;
    long ttlNanos = ttlMillis * 1_000_000L;
    return new Operation(EXPIRY, key, Kind.EXPIRE, null, Math.max(0, invokeNanos + ttlNanos - slackNanos),
        completeNanos + ttlNanos + slackNanos, Outcome.OK, value);
  }

  public enum Kind {
    READ("read"),
    WRITE("write"),
    /** A conditional write: {@code value} if the key held {@code expected}. */
    CAS("cas"),
    /** A conditional write answered 412: the key did not hold {@code expected}; nothing changed. */
    CAS_REFUSED("cas-refused"),
    /**
     * Not a client's operation: the expiry of a write of {@code expected} with a TTL, recorded by
     * the workload that made the write. It takes effect once, somewhere in its interval (the
     * window in real time in which coordinators may judge the value present or expired), and
     * makes the key absent if it still holds {@code expected}; else it changes nothing. A read of
     * that value, or of absence, overlapping the window may return either while the key holds the
     * value or its expiry: coordinators whose clocks differ may disagree there, and flip
     * (docs/consistency.md, "Expiring keys").
     */
    EXPIRE("expire");

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
      throw new IllegalArgumentException("op must be read, write, cas, cas-refused or expire, not '" + label + "'");
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

  /** A read or a plain write (no expected value). */
  public Operation(int client, String key, Kind kind, String value, long invokeNanos, long completeNanos,
      Outcome outcome) {
    this(client, key, kind, value, invokeNanos, completeNanos, outcome, null);
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

  /** Whether it may change the key: a write or a conditional write. */
  public boolean writes() {
    return kind == Kind.WRITE || kind == Kind.CAS;
  }

  /** A short human-readable form for reports, times in milliseconds. */
  public String describe() {
    String what = switch (kind) {
      case READ -> "read -> " + show(value);
      case WRITE -> value == null ? "delete" : "write " + show(value);
      case CAS -> "if " + show(expected) + " " + (value == null ? "delete" : "write " + show(value));
      case CAS_REFUSED -> "if " + show(expected) + " -> 412";
      case EXPIRE -> show(expected) + " expires";
    };
    return String.format("client %d %s %s [%.3f s .. %.3f s] %s", client, key, what, invokeNanos / 1e9,
        completeNanos / 1e9, outcome.label());
  }

  private static String show(String value) {
    return value == null ? "(absent)" : "'" + value + "'";
  }
}
