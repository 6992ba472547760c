package io.quorumkv.coordinator;

import io.quorumkv.store.Record;
import io.quorumkv.version.Version;
import java.util.Optional;

/**
 * The condition of a conditional write (docs/conditional-writes.md): {@code If-Match: "<version>"}
 * or {@code If-None-Match: *}. Evaluated by a Paxos round on the key's state, never on a plain read.
 */
public sealed interface Condition {

  /**
   * Whether the condition holds on {@code state} (empty: the key is absent) for a coordinator whose
   * clock reads {@code clockMillis}: a tombstone, and a value whose TTL has passed by that clock,
   * are absence (docs/listing-watch-ttl.md, "Expiring keys").
   */
  boolean holds(Optional<Record> state, long clockMillis);

  /** The version of the value {@code state} holds for a reader at {@code clockMillis}, if it holds one. */
  static Optional<Version> currentVersion(Optional<Record> state, long clockMillis) {
    return state.filter(record -> !record.isAbsentAt(clockMillis)).map(Record::version);
  }

  /** The key's current version is exactly {@code expected} (a value, not a tombstone). */
  record IfMatch(Version expected) implements Condition {
    public IfMatch {
      if (expected == null || expected.hlc() <= 0) {
        throw new IllegalArgumentException("an expected version is a version above zero");
      }
    }

    @Override
    public boolean holds(Optional<Record> state, long clockMillis) {
      return Condition.currentVersion(state, clockMillis).filter(expected::equals).isPresent();
    }
  }

  /** The key is absent or deleted. */
  record IfAbsent() implements Condition {
    @Override
    public boolean holds(Optional<Record> state, long clockMillis) {
      return Condition.currentVersion(state, clockMillis).isEmpty();
    }
  }
}
