package io.quorumkv.version;

/**
 * The version of a record: a hybrid-logical-clock reading and the random id of the replica
 * that issued it. Ordered by {@code hlc}, then {@code replicaId}, so two replicas can never
 * issue equal versions (docs/design.md, "Versions").
 *
 * <p>The text form, used in ETags and logs, is {@code <hlc>.<replicaId as 16 hex digits>}.
 */
public record Version(long hlc, long replicaId) implements Comparable<Version> {

  /** Lower than every version a clock can issue: what a replica "holds" for an absent key. */
  public static final Version ZERO = new Version(0L, 0L);

  /** How a replica id is written wherever people read it: 16 hex digits. */
  public static String hex(long replicaId) {
    return String.format("%016x", replicaId);
  }

  public Version {
    if (hlc < 0) {
      throw new IllegalArgumentException("hlc must not be negative: " + hlc);
    }
  }

  @Override
  public int compareTo(Version other) {
    int byClock = Long.compare(hlc, other.hlc);
    return byClock != 0 ? byClock : Long.compareUnsigned(replicaId, other.replicaId);
  }

  public boolean isAfter(Version other) {
    return compareTo(other) > 0;
  }

  public static Version max(Version a, Version b) {
    return a.compareTo(b) >= 0 ? a : b;
  }

  @Override
  public String toString() {
    return hlc + "." + String.format("%016x", replicaId);
  }

  /** Parses {@link #toString()}; throws {@link IllegalArgumentException} on anything else. */
  public static Version parse(String text) {
    int dot = text.indexOf('.');
    if (dot <= 0 || dot == text.length() - 1 || text.length() - dot - 1 > 16) {
      throw new IllegalArgumentException("not a version: " + text);
    }
    try {
      return new Version(
          Long.parseLong(text.substring(0, dot)),
          Long.parseUnsignedLong(text.substring(dot + 1), 16));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not a version: " + text, e);
    }
  }
}
