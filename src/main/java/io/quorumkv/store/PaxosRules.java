package io.quorumkv.store;

import io.quorumkv.store.ReplicaProtocol.Apply;
import io.quorumkv.store.ReplicaProtocol.Cause;
import io.quorumkv.version.Version;
import java.util.Optional;

/**
 * What a replica takes of a Paxos round and what its fences refuse, as pure functions of the
 * key's record and Paxos state (docs/conditional-writes.md, "Rules at a replica"). Settled
 * tombstones count here as records, by their version: {@code held} is the raw record.
 */
final class PaxosRules {

  private PaxosRules() {}

  /** The highest version or ballot the key's state names: a prepare must exceed it. */
  static Version highest(Optional<Record> held, PaxosState state) {
    return Version.max(Record.versionOf(held), state.highest());
  }

  /** A prepare is granted only above the record, the promise, the accepted proposal and the committed ballot. */
  static boolean grantsPrepare(Optional<Record> held, PaxosState state, Version ballot) {
    return ballot.isAfter(highest(held, state));
  }

  /**
   * An accept is taken at or above the promise, above the committed ballot and any other accepted
   * proposal (the same proposal again is taken: a duplicate), and only for a record not older
   * than the one held (the same record is fine).
   */
  static boolean takesAccept(Optional<Record> held, PaxosState state, Version ballot, Record record) {
    if (ballot.compareTo(state.promised()) < 0 || !ballot.isAfter(state.committed())) {
      return false;
    }
    if (state.accepted().isPresent() && !ballot.isAfter(state.acceptedBallot())) {
      Proposal accepted = state.accepted().get();
      boolean duplicate = accepted.ballot().equals(ballot) && sameRecord(accepted.record(), record);
      if (!duplicate) {
        return false;
      }
    }
    int order = record.version().compareTo(Record.versionOf(held));
    return order > 0 || order == 0 && record.digest() == Record.digestOf(held);
  }

  /**
   * The fence an apply lies below, if any: the promise for every record from outside Paxos, the
   * committed ballot for a client write's own apply (copies of existing records pass it).
   */
  static Optional<Version> fenceFor(Apply apply, PaxosState state) {
    Version version = apply.record().version();
    if (version.compareTo(state.promised()) < 0) {
      return Optional.of(state.promised());
    }
    if (apply.cause() == Cause.WRITE && version.compareTo(state.committed()) < 0) {
      return Optional.of(state.committed());
    }
    return Optional.empty();
  }

  /** The same version and the same digest: the same write. */
  static boolean sameRecord(Record a, Record b) {
    return a.version().equals(b.version()) && a.digest() == b.digest();
  }

  /** The newer of a held record and an incoming one, as storage applies it. */
  static Optional<Record> newer(Optional<Record> held, Record incoming) {
    return held.isEmpty() || incoming.version().isAfter(held.get().version()) ? Optional.of(incoming) : held;
  }
}
