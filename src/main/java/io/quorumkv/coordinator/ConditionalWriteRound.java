package io.quorumkv.coordinator;

import io.quorumkv.coordinator.PaxosRound.Chosen;
import io.quorumkv.coordinator.PaxosRound.ConditionFalse;
import io.quorumkv.coordinator.PaxosRound.Contended;
import io.quorumkv.coordinator.PaxosRound.Failed;
import io.quorumkv.coordinator.PaxosRound.Outcome;
import io.quorumkv.store.Record;
import io.quorumkv.store.ReplicaProtocol.Applied;
import io.quorumkv.store.ReplicaProtocol.Apply;
import io.quorumkv.store.ReplicaProtocol.Cause;
import io.quorumkv.store.ReplicaProtocol.Read;
import io.quorumkv.store.ReplicaProtocol.RecordAndProposal;
import io.quorumkv.store.ReplicaProtocol.RecordHeld;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.store.Value;
import io.quorumkv.version.HybridLogicalClock;
import io.quorumkv.version.Version;
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
  /** {@code DeliberateBug.COMPARE_WITHOUT_CONSENSUS}: a quorum read, the compare, a plain apply. */
  private final UnconsensualCompare bug;

  /**
   * @param replicas all N replicas of the key, the local one first
   * @param fastWait try the fast round first, waiting this long for every replica's fast accept;
   *     null: the classic round only (a replica is down, or the key refused a fast round lately)
   * @param withoutConsensus {@code DeliberateBug.COMPARE_WITHOUT_CONSENSUS}
   */
  public ConditionalWriteRound(String key, PaxosRound.Conditional write, Consistency consistency,
      List<String> replicas, HybridLogicalClock clock, long replicaId, RandomGenerator random,
      java.time.Duration fastWait, boolean withoutConsensus) {
    this.key = key;
    this.round = new PaxosRound(key, write, consistency, replicas, clock,
        replicaId, random, Cause.CONDITIONAL_WRITE, fastWait);
    this.bug = withoutConsensus
        ? new UnconsensualCompare(key, write, consistency, replicas, clock, replicaId) : null;
  }

  public boolean finished() {
    return bug != null ? bug.finished : round.finished();
  }

  /** Whether a replica refused the fast accept: the next conditional write of the key had better go classic. */
  public boolean fastRefused() {
    return round.fastRefused();
  }

  public PaxosRound.FastPath fastPath() {
    return round.fastPath();
  }

  /** The replicas that answered the fast accept unavailable, or not in time. */
  public java.util.Set<String> fastUnavailable() {
    return round.fastUnavailable();
  }

  public List<RoundEffect<WriteResult>> step(RoundEvent event) {
    if (bug != null) {
      return bug.step(event);
    }
    return RoundEffect.map(round.step(event), outcome -> List.of(new RoundEffect.Reply<>(resultOf(outcome))));
  }

  /**
   * TEST ONLY, the deliberate bug: reads a quorum, compares the newest record with the condition,
   * then applies the new record as a plain write does. Each step is right; together they are not.
   */
  private static final class UnconsensualCompare {
    private final String key;
    private final PaxosRound.Conditional write;
    private final List<String> replicas;
    private final HybridLogicalClock clock;
    private final long replicaId;
    private final QuorumTracker reads;
    private final QuorumTracker applies;
    private Optional<Record> newest = Optional.empty();
    private Record record;
    private boolean finished;

    UnconsensualCompare(String key, PaxosRound.Conditional write, Consistency consistency,
        List<String> replicas, HybridLogicalClock clock, long replicaId) {
      this.key = key;
      this.write = write;
      this.replicas = replicas;
      this.clock = clock;
      this.replicaId = replicaId;
      this.reads = new QuorumTracker(replicas.size(), consistency.required(replicas.size()));
      this.applies = new QuorumTracker(replicas.size(), consistency.required(replicas.size()));
    }

    List<RoundEffect<WriteResult>> step(RoundEvent event) {
      List<RoundEffect<WriteResult>> effects = new java.util.ArrayList<>();
      if (finished) {
        return effects;
      }
      Stamp stamp = new Stamp(replicaId,
          clock.peek());
      if (event instanceof RoundEvent.Started) {
        replicas.forEach(replica -> effects.add(new RoundEffect.Send<>(replica,
            new Read(key, stamp, Cause.CONDITIONAL_WRITE), 1)));
      } else if (event instanceof RoundEvent.Answered answered && answered.round() == 1 && record == null) {
        Optional<Record> held = answered.answer() instanceof RecordHeld r
            ? r.record() : answered.answer() instanceof RecordAndProposal p
            ? p.record() : null;
        if (held == null || reads.hasAnswered(answered.replica())) {
          return effects;
        }
        clock.admit(answered.replica(), "read answer", Record.versionOf(held).hlc());
        if (Record.versionOf(held).isAfter(Record.versionOf(newest))) {
          newest = held;
        }
        if (reads.succeeded(answered.replica()) == QuorumTracker.Outcome.REACHED) {
          long clockMillis = HybridLogicalClock.millisOf(clock.peek());
          if (!write.condition().holds(newest, clockMillis)) {
            finished = true;
            effects.add(new RoundEffect.Reply<>(new WriteResult.PreconditionFailed(key,
                Condition.currentVersion(newest, clockMillis))));
            return effects;
          }
          record = write.recordAt(new Version(clock.tick(), replicaId));
          replicas.forEach(replica -> effects.add(new RoundEffect.Send<>(replica,
              new Apply(key, record, stamp, Cause.WRITE), 2)));
        }
      } else if (event instanceof RoundEvent.Answered answered && answered.round() == 2 && record != null
          && !applies.hasAnswered(answered.replica())) {
        boolean held = answered.answer() instanceof Applied applied
            && applied.version().equals(record.version());
        if ((held ? applies.succeeded(answered.replica()) : applies.failed(answered.replica()))
            == QuorumTracker.Outcome.REACHED) {
          finished = true;
          effects.add(new RoundEffect.Reply<>(new WriteResult.Written(key, record.version())));
        } else if (applies.outcome() == QuorumTracker.Outcome.FAILED) {
          finished = true;
          effects.add(new RoundEffect.Reply<>(new QuorumNotReached(Phase.ACCEPT, applies.successes(),
              applies.required(), applies.replicas())));
        }
      } else if (event instanceof RoundEvent.DeadlinePassed) {
        finished = true;
        effects.add(new RoundEffect.Reply<>(new QuorumNotReached(record == null ? Phase.PREPARE : Phase.ACCEPT,
            0, reads.required(), replicas.size())));
      }
      return effects;
    }
  }

  private WriteResult resultOf(Outcome outcome) {
    if (outcome instanceof Chosen chosen) {
      return new WriteResult.Written(key, chosen.record().version()); // a fast record's ballot is its version
    }
    if (outcome instanceof ConditionFalse conditionFalse) {
      return new WriteResult.PreconditionFailed(key,
          Condition.currentVersion(conditionFalse.state(), conditionFalse.clockMillis()));
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
