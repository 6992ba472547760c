package io.quorumkv.coordinator;

import io.quorumkv.store.Record;
import io.quorumkv.version.Version;
import java.util.Optional;

/**
 * The condition of a conditional write (docs/conditional-writes.md): {@code If-Match: "<version>"}
 * or {@code If-None-Match: *}. Evaluated by a Paxos round on the key's state, never on a plain read.
 */
public sealed interface Condition {

  /** Whether the condition holds on {@code state} (empty: the key is absent). A tombstone is absence. */
  boolean holds(Optional<Record> state);

  /** The key's current version is exactly {@code expected} (a value, not a tombstone). */
  record IfMatch(Version expected) implements Condition {
    public IfMatch {
      if (expected == null || expected.hlc() <= 0) {
        throw new IllegalArgumentException("an expected version is a version above zero");
      }
    }

    @Override
    public boolean holds(Optional<Record> state) {
      return state.filter(record -> !record.isTombstone()).map(Record::version).filter(expected::equals).isPresent();
    }
  }

  /** The key is absent or deleted. */
  record IfAbsent() implements Condition {
    @Override
    public boolean holds(Optional<Record> state) {
      return state.filter(record -> !record.isTombstone()).isEmpty();
    }
  }
}
