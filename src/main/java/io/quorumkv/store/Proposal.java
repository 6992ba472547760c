package io.quorumkv.store;

import io.quorumkv.version.Version;
import java.util.Objects;

/**
 * A record accepted under a Paxos ballot and not yet known to be committed (docs/conditional-writes.md).
 * The ballot is a version, so proposals and records are ordered by the one order the store has.
 */
public record Proposal(Version ballot, Record record) {
  public Proposal {
    Objects.requireNonNull(record, "record");
    if (ballot == null || ballot.hlc() <= 0) {
      throw new IllegalArgumentException("a ballot is a version above zero");
    }
    if (record.version().isAfter(ballot)) {
      throw new IllegalArgumentException("a proposal's record is never newer than its ballot");
    }
  }
}
