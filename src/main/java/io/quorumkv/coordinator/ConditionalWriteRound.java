package io.quorumkv.coordinator;

import io.quorumkv.coordinator.PaxosRound.Chosen;
import io.quorumkv.coordinator.PaxosRound.ConditionFalse;
import io.quorumkv.coordinator.PaxosRound.Contended;
import io.quorumkv.coordinator.PaxosRound.Failed;
import io.quorumkv.coordinator.PaxosRound.Outcome;
import io.quorumkv.store.Record;
import io.quorumkv.store.ReplicaProtocol.Cause;
import io.quorumkv.store.Value;
import io.quorumkv.version.HybridLogicalClock;
import java.util.List;
import java.util.Optional;
import java.util.random.RandomGenerator;

/**
 * One conditional write (PUT or DELETE with {@code If-Match} or {@code If-None-Match: *}) as pure
 * code: a {@link PaxosRound} whose goal is the new record, and what its outcome means to the
 * client (docs/conditional-writes.md). {@link ConditionalWriteCoordinator} drives it; the
 * scenario tests and the simulation drive it directly.
 */
public final class ConditionalWriteRound {

  private final String key;
  private final PaxosRound round;

  /** @param replicas all N replicas of the key, the local one first */
  public ConditionalWriteRound(String key, Condition condition, Optional<Value> value, Consistency consistency,
      List<String> replicas, HybridLogicalClock clock, long replicaId, RandomGenerator random) {
    this.key = key;
    this.round = new PaxosRound(key, new PaxosRound.Conditional(condition, value), consistency, replicas, clock,
        replicaId, random, Cause.CONDITIONAL_WRITE);
  }

  public boolean finished() {
    return round.finished();
  }

  public List<RoundEffect<WriteResult>> step(RoundEvent event) {
    return RoundEffect.map(round.step(event), outcome -> List.of(new RoundEffect.Reply<>(resultOf(outcome))));
  }

  private WriteResult resultOf(Outcome outcome) {
    if (outcome instanceof Chosen chosen) {
      return new WriteResult.Written(key, chosen.ballot());
    }
    if (outcome instanceof ConditionFalse conditionFalse) {
      return new WriteResult.PreconditionFailed(key,
          conditionFalse.state().filter(record -> !record.isTombstone()).map(Record::version));
    }
    if (outcome instanceof Contended contended) {
      return new WriteResult.Contended(key, contended.attempts());
    }
    if (outcome instanceof Failed failed) {
      // Indeterminate only once an accept of its own record was sent.
      Phase phase = failed.ownAcceptSent() ? Phase.ACCEPT : Phase.PREPARE;
      return new QuorumNotReached(phase, failed.answered(), failed.required(), failed.replicas());
    }
    throw new IllegalStateException("a conditional write does not end as " + outcome);
  }
}
