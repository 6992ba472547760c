package io.quorumkv.coordinator;

import io.quorumkv.config.Fanout;
import io.quorumkv.coordinator.RoundEffect.Reply;
import io.quorumkv.coordinator.RoundEffect.Send;
import io.quorumkv.coordinator.RoundEffect.StartHedgeTimer;
import io.quorumkv.coordinator.RoundEffect.Unacknowledged;
import io.quorumkv.coordinator.RoundEvent.Answered;
import io.quorumkv.coordinator.RoundEvent.BackoffPassed;
import io.quorumkv.coordinator.RoundEvent.DeadlinePassed;
import io.quorumkv.coordinator.RoundEvent.HedgeDelayPassed;
import io.quorumkv.coordinator.RoundEvent.Started;
import io.quorumkv.store.Record;
import io.quorumkv.store.ReplicaProtocol.Applied;
import io.quorumkv.store.ReplicaProtocol.Apply;
import io.quorumkv.store.ReplicaProtocol.Cause;
import io.quorumkv.store.ReplicaProtocol.Fenced;
import io.quorumkv.store.ReplicaProtocol.ReadVersion;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.store.ReplicaProtocol.VersionHeld;
import io.quorumkv.store.ReplicaStats;
import io.quorumkv.store.Value;
import io.quorumkv.version.HybridLogicalClock;
import io.quorumkv.version.Version;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * One write (PUT or DELETE) as pure code: the two rounds of a multi-writer ABD register
 * (docs/design.md, "Request flow"). {@link WriteCoordinator} drives it; the scenario tests and
 * the simulation drive it directly.
 *
 * <ol>
 *   <li>{@link State#QUERYING}: {@link ReadVersion} to the replicas (all, or R first: see
 *       {@link Fanout}); after R answers, the clock moves past every version and clock reading
 *       they carried and issues this write's version, so it is higher than every version of a
 *       write that completed before this one started, whatever the wall clocks say.
 *   <li>{@link State#APPLYING}: {@link Apply} to all N; an answer holding this version (same
 *       digest) or a newer one counts toward W. Replies once W count.
 * </ol>
 *
 * An apply answered {@link Fenced} (its record lies below a promise or committed ballot of a
 * conditional write's round that did not see it) counts as failed. When W cannot be reached
 * without such answers, the write must not try again under a new version (its first one may
 * still be adopted): it settles its own record through a {@link PaxosRound}, which places it at
 * its own version unless the key's state is already newer (then its outcome is indeterminate;
 * docs/conditional-writes.md, "A plain write").
 *
 * <p>No Apply leaves before the query round completed. Every answer carries the round that asked
 * ({@link #QUERY} or {@link #APPLY}), so a failure is never counted against the wrong round. The
 * round replies exactly once, then keeps listening until every replica answered the apply or the
 * deadline passed; then the replicas that did not acknowledge it are named for hinted handoff.
 */
public final class WriteRound {

  /** What to write: a value (expiring {@code ttlMillis} after its version's time, 0: never), or a tombstone when {@code value} is empty. */
  public record Write(String key, Optional<Value> value, long ttlMillis) {
    /** A write that never expires. */
    public Write(String key, Optional<Value> value) {
      this(key, value, 0L);
    }
  }

  public enum State { QUERYING, APPLYING, FINISHED }

  /** The round tag of the version query. */
  public static final long QUERY = 1;
  /** The round tag of the apply. */
  public static final long APPLY = 2;

  private final Write write;
  private final List<String> replicas;
  private final List<String> queryTargets;
  private final HybridLogicalClock clock;
  private final long replicaId;
  private final ReplicaStats stats;
  private final Fanout fanout;
  private final boolean skipVersionQuery; // DeliberateBug.ONE_ROUND_WRITES
  private final Consistency consistency;
  private final java.util.random.RandomGenerator random;

  private final QuorumTracker query;
  private final QuorumTracker apply;
  private final Set<String> queried = new HashSet<>();
  private State state = State.QUERYING;
  private Record record; // this write's record, once the query round completed
  private boolean replied;
  private boolean fenced;
  /** The round settling this write's record after it was fenced, once started. */
  private PaxosRound settle;

  /**
   * @param replicas the names of all N replicas of the key, the local one first
   * @param skipVersionQuery {@code DeliberateBug.ONE_ROUND_WRITES}: stamped by the local clock alone
   */
  public WriteRound(
      Write write, Consistency consistency, List<String> replicas, HybridLogicalClock clock, long replicaId,
      ReplicaStats stats, Fanout fanout, boolean skipVersionQuery, java.util.random.RandomGenerator random) {
    this.write = write;
    this.consistency = consistency;
    this.random = random;
    this.replicas = List.copyOf(replicas);
    this.clock = clock;
    this.replicaId = replicaId;
    this.stats = stats;
    this.fanout = fanout;
    this.skipVersionQuery = skipVersionQuery;
    int n = replicas.size();
    // ONE takes its version from the local replica alone (docs/design.md, "Request flow").
    this.queryTargets = skipVersionQuery ? List.of() : consistency == Consistency.ONE ? this.replicas.subList(0, 1)
        : this.replicas;
    this.query = consistency == Consistency.ONE ? new QuorumTracker(1, 1) : new QuorumTracker(n, consistency.required(n));
    this.apply = new QuorumTracker(n, consistency.required(n));
  }

  public State state() {
    return state;
  }

  /** Replied, and nothing is left to hear: the actor may stop. */
  public boolean finished() {
    return state == State.FINISHED;
  }

  public List<RoundEffect<WriteResult>> step(RoundEvent event) {
    List<RoundEffect<WriteResult>> effects = new ArrayList<>();
    if (state == State.FINISHED) {
      return effects;
    }
    if (settle != null && (event instanceof BackoffPassed || event instanceof DeadlinePassed
        || event instanceof Answered answered && PaxosRound.owns(answered.round()))) {
      onSettleEvent(event, effects);
    } else if (event instanceof Started) {
      start(effects);
    } else if (event instanceof Answered answered) {
      if (answered.round() == QUERY && state == State.QUERYING) {
        onQueryAnswer(answered, effects);
      } else if (answered.round() == APPLY && state == State.APPLYING) {
        onApplyAnswer(answered, effects);
      }
      // Else a late answer of the query round: it changes nothing.
    } else if (event instanceof HedgeDelayPassed) {
      queryTheRest(effects);
    } else if (event instanceof BackoffPassed) {
      // A settle's backoff after the settle ended: nothing to do.
    } else if (event instanceof DeadlinePassed) {
      onDeadline(effects);
    } else {
      throw new IllegalArgumentException("not a round event: " + event);
    }
    return effects;
  }

  private void start(List<RoundEffect<WriteResult>> effects) {
    if (skipVersionQuery) {
      startApply(effects);
      return;
    }
    int first = fanout.firstAsked(queryTargets.size(), query.required());
    queryTargets.subList(0, first).forEach(replica -> queryVersion(replica, effects));
    if (first < queryTargets.size()) {
      effects.add(new StartHedgeTimer<>(fanout.hedgeDelay()));
    }
  }

  private void queryVersion(String replica, List<RoundEffect<WriteResult>> effects) {
    queried.add(replica);
    effects.add(new Send<>(replica, new ReadVersion(write.key(), stamp()), QUERY));
  }

  /** While the version query is open: asks the replicas not asked yet. */
  private void queryTheRest(List<RoundEffect<WriteResult>> effects) {
    if (state == State.QUERYING && !replied) {
      queryTargets.stream().filter(replica -> !queried.contains(replica))
          .forEach(replica -> queryVersion(replica, effects));
    }
  }

  private void onQueryAnswer(Answered answered, List<RoundEffect<WriteResult>> effects) {
    String replica = answered.replica();
    if (!queried.contains(replica) || query.hasAnswered(replica)) {
      return; // not asked, or a duplicate: changes nothing
    }
    QuorumTracker.Outcome outcome;
    if (answered.answer() instanceof VersionHeld held
        && clock.admit(replica, "version query answer", held.version().hlc(), held.stamp().clock())) {
      // Admitted means observed: the tick in startApply() lies above this answer's readings.
      outcome = query.succeeded(replica);
    } else {
      // Unavailable, a reading from further ahead than max-clock-offset (refused, never
      // observed), or an answer that is not a version: a failed answer either way.
      outcome = query.failed(replica);
      queryTheRest(effects);
    }
    if (outcome == QuorumTracker.Outcome.REACHED) {
      startApply(effects);
    } else if (outcome == QuorumTracker.Outcome.FAILED) {
      reply(new QuorumNotReached(Phase.VERSION_QUERY, query.successes(), query.required(), query.replicas()), effects);
      state = State.FINISHED; // nothing was applied anywhere: nothing left to hear
    }
  }

  private void startApply(List<RoundEffect<WriteResult>> effects) {
    long hlc;
    try {
      hlc = clock.tick();
    } catch (RuntimeException e) {
      // The clock's next mark could not be recorded (see HybridLogicalClock.admit): nothing was
      // sent yet, so the write did not happen.
      reply(new NotStarted("the clock's next durable mark cannot be recorded: " + e.getMessage(),
          NotStarted.STORAGE), effects);
      state = State.FINISHED;
      return;
    }
    record = new Record(new Version(hlc, replicaId), write.value().orElse(null), write.ttlMillis());
    state = State.APPLYING;
    for (String replica : replicas) {
      effects.add(new Send<>(replica, new Apply(write.key(), record, stamp(), Cause.WRITE), APPLY));
    }
  }

  private void onApplyAnswer(Answered answered, List<RoundEffect<WriteResult>> effects) {
    String replica = answered.replica();
    if (!replicas.contains(replica) || apply.hasAnswered(replica)) {
      return;
    }
    QuorumTracker.Outcome outcome;
    if (answered.answer() instanceof Applied applied
        && clock.admit(replica, "apply answer", applied.stamp().clock(), applied.version().hlc())
        && holdsThisWriteOrNewer(replica, applied)) {
      outcome = apply.succeeded(replica);
    } else {
      if (answered.answer() instanceof Fenced fence
          && clock.admit(replica, "fenced answer", fence.stamp().clock(), fence.fence().hlc())) {
        fenced = true; // the settle's ballot is drawn above the fence
      }
      outcome = apply.failed(replica);
    }
    if (outcome == QuorumTracker.Outcome.REACHED) {
      reply(new WriteResult.Written(write.key(), record.version()), effects);
    } else if (outcome == QuorumTracker.Outcome.FAILED) {
      if (fenced && consistency != Consistency.ONE && !replied) {
        startSettle(effects);
        return;
      }
      reply(new QuorumNotReached(Phase.APPLY, apply.successes(), apply.required(), apply.replicas()), effects);
    }
    if (replied && apply.answers() == replicas.size() && settle == null) {
      finish(effects);
    }
  }

  private void startSettle(List<RoundEffect<WriteResult>> effects) {
    settle = new PaxosRound(write.key(), new PaxosRound.SettleOwn(record), consistency, replicas, clock, replicaId,
        random, Cause.WRITE);
    onSettleEvent(new Started(), effects);
  }

  /** While settling: the settle's outcome is this write's. */
  private void onSettleEvent(RoundEvent event, List<RoundEffect<WriteResult>> effects) {
    effects.addAll(RoundEffect.map(settle.step(event), outcome -> {
      replied = true;
      if (outcome instanceof PaxosRound.Chosen) {
        return List.of(new RoundEffect.Reply<>(new WriteResult.Written(write.key(), record.version())));
      }
      // Dominated by a newer state, or no quorum: its record may still be adopted by a later
      // round, so the outcome is indeterminate.
      return List.of(new RoundEffect.Reply<>(
          new QuorumNotReached(Phase.APPLY, apply.successes(), apply.required(), apply.replicas())));
    }));
    if (settle.finished() || event instanceof DeadlinePassed) {
      finish(effects);
    }
  }

  /** A newer version counts: a concurrent write overtook this one, which ABD allows. */
  private boolean holdsThisWriteOrNewer(String replica, Applied applied) {
    int order = applied.version().compareTo(record.version());
    if (order == 0 && applied.digest() != record.digest()) {
      stats.digestConflict(write.key(), applied.version(), "apply answer from " + replica);
      return false;
    }
    return order >= 0;
  }

  private void onDeadline(List<RoundEffect<WriteResult>> effects) {
    if (state == State.QUERYING) {
      reply(new QuorumNotReached(Phase.VERSION_QUERY, query.successes(), query.required(), query.replicas()), effects);
      state = State.FINISHED;
    } else {
      reply(new QuorumNotReached(Phase.APPLY, apply.successes(), apply.required(), apply.replicas()), effects);
      finish(effects);
    }
  }

  /** The apply is over: the peers that did not acknowledge it get a hint, replayed when they answer again. */
  private void finish(List<RoundEffect<WriteResult>> effects) {
    List<String> missed = replicas.subList(1, replicas.size()).stream()
        .filter(name -> !apply.hasSucceeded(name))
        .toList();
    if (!missed.isEmpty()) {
      effects.add(new Unacknowledged<>(write.key(), missed));
    }
    state = State.FINISHED;
  }

  private void reply(WriteResult result, List<RoundEffect<WriteResult>> effects) {
    if (!replied) {
      replied = true;
      effects.add(new Reply<>(result));
    }
  }

  private Stamp stamp() {
    return new Stamp(replicaId, clock.peek());
  }
}
