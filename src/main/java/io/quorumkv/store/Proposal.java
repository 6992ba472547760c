package io.quorumkv.store;

import io.quorumkv.version.Version;
import java.util.Objects;
import java.util.Optional;

/**
 * A record accepted under a Paxos ballot and not yet known to be committed (docs/conditional-writes.md).
 * The ballot is a version, so proposals and records are ordered by the one order the store has.
 *
 * <p>Two kinds besides the plain one (the fast round, revision 8): a <em>fast</em> proposal was
 * taken from a {@code FastAccept} and may have been chosen only if every replica took it, so a
 * classic round counts it only when every promise of its quorum carries it; an <em>empty</em>
 * proposal ({@code record} empty, the value written {@code ∅} in the design) was accepted by a
 * settle that found the key absent: chosen, it commits no record, only the ballot. A zero-byte
 * value is a record, never {@code ∅}.
 *
 * @param fast taken from a fast accept; never empty
 */
public record Proposal(Version ballot, Optional<Record> record, boolean fast) {
  public Proposal {
    Objects.requireNonNull(record, "record");
    if (ballot == null || ballot.hlc() <= 0) {
      throw new IllegalArgumentException("a ballot is a version above zero");
    }
    if (record.isPresent() && record.get().version().isAfter(ballot)) {
      throw new IllegalArgumentException("a proposal's record is never newer than its ballot");
    }
    if (fast && (record.isEmpty() || !record.get().version().equals(ballot))) {
      throw new IllegalArgumentException("a fast proposal is a new record at its ballot");
    }
  }

  /** A classic round's proposal of {@code record}. */
  public Proposal(Version ballot, Record record) {
    this(ballot, Optional.of(record), false);
  }

  /** A settle's proposal of nothing: the key is absent. */
  public static Proposal empty(Version ballot) {
    return new Proposal(ballot, Optional.empty(), false);
  }

  public boolean isEmpty() {
    return record.isEmpty();
  }
}
