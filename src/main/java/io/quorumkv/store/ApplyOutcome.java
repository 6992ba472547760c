package io.quorumkv.store;

import java.util.Optional;

/**
 * What applying one record did: the record held for its key before the batch entry, and the
 * one held after (the incoming record when it was newer, else the one before).
 */
public record ApplyOutcome(Optional<Record> before, Record held) {

  /** Whether the entry replaced what was held (or filled an absent key). */
  public boolean changed() {
    return before.isEmpty() || held.version().isAfter(before.get().version());
  }
}
