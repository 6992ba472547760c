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
   * than the one held (the same record is fine). The empty value is older than no record.
   */
  static boolean takesAccept(Optional<Record> held, PaxosState state, Version ballot, Optional<Record> record) {
    if (ballot.compareTo(state.promised()) < 0 || !ballot.isAfter(state.committed())) {
      return false;
    }
    if (state.accepted().isPresent() && !ballot.isAfter(state.acceptedBallot())) {
      Proposal accepted = state.accepted().get();
      boolean duplicate = accepted.ballot().equals(ballot) && !accepted.fast()
          && accepted.record().isPresent() == record.isPresent()
          && (record.isEmpty() || sameRecord(accepted.record().get(), record.get()));
      if (!duplicate) {
        return false;
      }
    }
    if (record.isEmpty()) {
      return true;
    }
    int order = record.get().version().compareTo(Record.versionOf(held));
    return order > 0 || order == 0 && record.get().digest() == Record.digestOf(held);
  }

  /**
   * A fast accept is taken only when the replica holds no proposal at all, its ballot (the new
   * record's version) exceeds the record, the promise and the committed ballot, and the
   * condition holds on the record held ({@code expected} empty: absent or a tombstone, settled
   * or not; else a value at exactly that version). So at most one fast proposal of a key is ever
   * held by all three replicas, and one held by all three was evaluated on each one's record
   * (docs/conditional-writes.md, the fast round). A value with a TTL whose expiry is within
   * max-clock-offset of {@code clockMillis}, or past, refuses: whether it is absent is the
   * coordinator's call, so the classic round decides (docs/listing-watch-ttl.md, "Conditions").
   */
  static boolean takesFastAccept(Optional<Record> held, PaxosState state, Version ballot, Optional<Version> expected,
      long clockMillis, long maxOffsetMillis) {
    if (state.accepted().isPresent() || !ballot.isAfter(highest(held, state))) {
      return false;
    }
    if (held.filter(Record::hasTtl).filter(record -> clockMillis >= record.expiresAtMillis() - maxOffsetMillis)
        .isPresent()) {
      return false;
    }
    Optional<Record> value = held.filter(record -> !record.isTombstone());
    return expected.isEmpty() ? value.isEmpty() : value.map(Record::version).filter(expected.get()::equals).isPresent();
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

  /** The newer of a held record and an incoming one, if any (a commit of the empty value brings none). */
  static Optional<Record> newer(Optional<Record> held, Optional<Record> incoming) {
    return incoming.isPresent() ? newer(held, incoming.get()) : held;
  }
}
