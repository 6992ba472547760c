package io.quorumkv.coordinator;

import io.quorumkv.coordinator.RoundEffect.Reply;
import io.quorumkv.coordinator.RoundEffect.Send;
import io.quorumkv.coordinator.RoundEffect.StartBackoffTimer;
import io.quorumkv.coordinator.RoundEvent.Answered;
import io.quorumkv.coordinator.RoundEvent.BackoffPassed;
import io.quorumkv.coordinator.RoundEvent.DeadlinePassed;
import io.quorumkv.coordinator.RoundEvent.Started;
import io.quorumkv.store.Proposal;
import io.quorumkv.store.Record;
import io.quorumkv.store.ReplicaProtocol.Accept;
import io.quorumkv.store.ReplicaProtocol.Accepted;
import io.quorumkv.store.ReplicaProtocol.Cause;
import io.quorumkv.store.ReplicaProtocol.Commit;
import io.quorumkv.store.ReplicaProtocol.Preempted;
import io.quorumkv.store.ReplicaProtocol.Prepare;
import io.quorumkv.store.ReplicaProtocol.Promised;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.store.Value;
import io.quorumkv.version.HybridLogicalClock;
import io.quorumkv.version.Version;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.random.RandomGenerator;

/**
 * One Paxos round on one key, as pure code (docs/conditional-writes.md, "The protocol"): a
 * prepare with a fresh ballot, the state the promises report, then an accept and a commit. Its
 * {@link Goal} says what it accepts: a conditional write's new record (when the condition holds on
 * the state), a plain write's own record (when it was fenced), or the state as found (a settle).
 *
 * <p>Ballots are versions from this replica's clock, so a conditional write's record is placed in
 * the one order of versions. A prepare is granted only above everything a replica holds; when
 * preempted the round moves its clock past what it learned, backs off (randomised, doubled per
 * attempt) and tries again, up to {@link #ATTEMPTS_MAX} attempts. It never tries again once it has
 * sent an accept of a conditional write's own record: that record may be adopted later.
 *
 * <p>Round tags: attempt {@code a} prepares under {@code 100 + 10a + 1}, accepts under
 * {@code + 2} and commits under {@code + 3}, so a parent round's own tags (below 100) and an
 * earlier attempt's late answers never mix with this attempt's.
 */
public final class PaxosRound {

  /** What a round accepts. */
  public sealed interface Goal permits Conditional, SettleOwn, Settle {}

  /** A conditional write: {@code value} (empty: a tombstone) at the ballot, if {@code condition} holds. */
  public record Conditional(Condition condition, Optional<Value> value) implements Goal {}

  /** A plain write that was fenced: its own record, at its own version, unless the state is newer. */
  public record SettleOwn(Record record) implements Goal {}

  /** Whatever the state is: commits it, so it may be served. */
  public record Settle() implements Goal {}

  /** How the round ended. */
  public sealed interface Outcome {}

  /** A majority accepted {@code record} under {@code ballot}: it is chosen. */
  public record Chosen(Record record, Version ballot) implements Outcome {}

  /** A settle found no record and no proposal: nothing to accept. */
  public record Absent() implements Outcome {}

  /** The condition was false on {@code state}, which is committed (found chosen, or settled first). */
  public record ConditionFalse(Optional<Record> state) implements Outcome {}

  /** A plain write's record is older than the state the round found: it cannot be placed. */
  public record Dominated(Record state) implements Outcome {}

  /**
   * No quorum answered (or the deadline passed). {@code ownAcceptSent}: an accept of a
   * conditional write's own record was sent, so the outcome is indeterminate.
   */
  public record Failed(Phase phase, int answered, int required, int replicas, boolean ownAcceptSent)
      implements Outcome {}

  /** Preempted on every attempt, before any accept of a conditional write's own record. */
  public record Contended(int attempts) implements Outcome {}

  public enum State { PREPARING, BACKING_OFF, ACCEPTING, FINISHED }

  /** Attempts before a contended round gives up. */
  public static final int ATTEMPTS_MAX = 8;
  /** The first backoff's upper bound; each attempt doubles it. */
  static final Duration BACKOFF_BASE = Duration.ofMillis(4);
  static final long TAG_BASE = 100;

  private final String key;
  private final Goal goal;
  private final List<String> replicas;
  private final int majority;
  private final int acceptsRequired;
  private final HybridLogicalClock clock;
  private final long replicaId;
  private final RandomGenerator random;
  private final Cause cause;

  private State state = State.PREPARING;
  private int attempt = -1;
  private Version ballot;
  private QuorumTracker promises;
  private final Map<String, Promised> promised = new LinkedHashMap<>();
  private boolean preempted;
  private QuorumTracker accepts;
  private Record proposed;
  private boolean proposingOwn;
  private boolean ownAcceptSent;
  /** What to answer once the accept is chosen. */
  private Outcome onChosen;

  /**
   * @param replicas all N replicas of the key, the local one first
   * @param consistency how many accepts a conditional write needs (QUORUM or ALL; never ONE)
   */
  public PaxosRound(String key, Goal goal, Consistency consistency, List<String> replicas, HybridLogicalClock clock,
      long replicaId, RandomGenerator random, Cause cause) {
    if (consistency == Consistency.ONE) {
      throw new IllegalArgumentException("a Paxos round needs a quorum");
    }
    this.key = key;
    this.goal = goal;
    this.replicas = List.copyOf(replicas);
    this.majority = replicas.size() / 2 + 1;
    this.acceptsRequired = Math.max(majority, consistency.required(replicas.size()));
    this.clock = clock;
    this.replicaId = replicaId;
    this.random = random;
    this.cause = cause;
  }

  public State state() {
    return state;
  }

  public boolean finished() {
    return state == State.FINISHED;
  }

  /** Whether {@code round} is a tag of this round's messages. */
  public static boolean owns(long round) {
    return round >= TAG_BASE;
  }

  public List<RoundEffect<Outcome>> step(RoundEvent event) {
    List<RoundEffect<Outcome>> effects = new ArrayList<>();
    if (state == State.FINISHED) {
      return effects;
    }
    if (event instanceof Started) {
      prepare(effects);
    } else if (event instanceof BackoffPassed) {
      if (state == State.BACKING_OFF) {
        prepare(effects);
      }
    } else if (event instanceof Answered answered) {
      if (answered.round() == tag(1) && state == State.PREPARING) {
        onPromise(answered, effects);
      } else if (answered.round() == tag(2) && state == State.ACCEPTING) {
        onAccept(answered, effects);
      }
      // Else a commit's answer, or a late answer of an earlier attempt: it changes nothing.
    } else if (event instanceof DeadlinePassed) {
      if (state == State.ACCEPTING) {
        finish(new Failed(Phase.ACCEPT, accepts.successes(), accepts.required(), accepts.replicas(), ownAcceptSent),
            effects);
      } else {
        int answered = promises == null ? 0 : promises.successes();
        finish(new Failed(Phase.PREPARE, answered, majority, replicas.size(), ownAcceptSent), effects);
      }
    } else {
      throw new IllegalArgumentException("not a round event: " + event);
    }
    return effects;
  }

  private long tag(int phase) {
    return TAG_BASE + 10L * attempt + phase;
  }

  private void prepare(List<RoundEffect<Outcome>> effects) {
    attempt++;
    long hlc;
    try {
      hlc = clock.tick();
    } catch (RuntimeException e) {
      // The clock's next durable mark could not be recorded: no ballot, nothing sent.
      finish(new Failed(Phase.PREPARE, 0, majority, replicas.size(), ownAcceptSent), effects);
      return;
    }
    ballot = new Version(hlc, replicaId);
    state = State.PREPARING;
    promises = new QuorumTracker(replicas.size(), majority);
    promised.clear();
    preempted = false;
    for (String replica : replicas) {
      effects.add(new Send<>(replica, new Prepare(key, ballot, stamp(), cause), tag(1)));
    }
  }

  private void onPromise(Answered answered, List<RoundEffect<Outcome>> effects) {
    String replica = answered.replica();
    if (!replicas.contains(replica) || promises.hasAnswered(replica)) {
      return;
    }
    QuorumTracker.Outcome outcome;
    if (answered.answer() instanceof Promised promise && admitted(replica, promise)) {
      promised.put(replica, promise);
      outcome = promises.succeeded(replica);
    } else {
      if (answered.answer() instanceof Preempted refusal
          && clock.admit(replica, "preempted answer", refusal.stamp().clock(), refusal.highest().hlc())) {
        preempted = true; // the next ballot is drawn above what it learned
      }
      outcome = promises.failed(replica);
    }
    if (outcome == QuorumTracker.Outcome.REACHED) {
      decide(effects);
    } else if (outcome == QuorumTracker.Outcome.FAILED) {
      if (preempted) {
        backOff(effects);
      } else {
        finish(new Failed(Phase.PREPARE, promises.successes(), majority, replicas.size(), ownAcceptSent), effects);
      }
    }
  }

  private boolean admitted(String replica, Promised promise) {
    return clock.admit(replica, "promise", promise.stamp().clock(), Record.versionOf(promise.record()).hlc(),
        promise.committed().hlc(), promise.accepted().map(proposal -> proposal.ballot().hlc()).orElse(0L));
  }

  /** A majority promised: compute the state and pick what to accept. */
  private void decide(List<RoundEffect<Outcome>> effects) {
    Optional<Record> found = stateOf(promised.values());
    if (goal instanceof Conditional conditional) {
      if (conditional.condition().holds(found)) {
        Record record = new Record(ballot, conditional.value().orElse(null));
        accept(record, true, new Chosen(record, ballot), effects);
      } else if (found.isEmpty() || knownChosen(found.get())) {
        finish(new ConditionFalse(found), effects);
      } else {
        accept(found.orElseThrow(), false, new ConditionFalse(found), effects);
      }
    } else if (goal instanceof SettleOwn own) {
      if (found.isPresent() && found.get().version().isAfter(own.record().version())) {
        finish(new Dominated(found.get()), effects);
      } else {
        accept(own.record(), false, new Chosen(own.record(), ballot), effects);
      }
    } else {
      if (found.isEmpty()) {
        finish(new Absent(), effects);
      } else {
        accept(found.get(), false, new Chosen(found.get(), ballot), effects);
      }
    }
  }

  /**
   * The state a quorum of promises reports: of the proposals above the highest committed ballot,
   * the one with the highest ballot (classic Paxos: only it can have been chosen), and the newest
   * record reported; the newer of the two by version. Empty: nothing at all.
   */
  static Optional<Record> stateOf(Iterable<Promised> promises) {
    Version highestCommitted = Version.ZERO;
    for (Promised promise : promises) {
      highestCommitted = Version.max(highestCommitted, promise.committed());
    }
    Version committed = highestCommitted;
    Optional<Proposal> candidate = Optional.empty();
    Optional<Record> newest = Optional.empty();
    for (Promised promise : promises) {
      Optional<Proposal> accepted = promise.accepted().filter(proposal -> proposal.ballot().isAfter(committed));
      if (accepted.isPresent() && (candidate.isEmpty() || accepted.get().ballot().isAfter(candidate.get().ballot()))) {
        candidate = accepted;
      }
      newest = newer(newest, promise.record());
    }
    return newer(newest, candidate.map(Proposal::record));
  }

  /** The newer by version; at one version the higher digest, so every coordinator picks the same one. */
  private static Optional<Record> newer(Optional<Record> a, Optional<Record> b) {
    int order = Record.versionOf(b).compareTo(Record.versionOf(a));
    return order > 0 || order == 0 && Record.digestOf(b) > Record.digestOf(a) ? b : a;
  }

  /**
   * Whether the state is known to be chosen without a settle: a majority of promises report it as
   * their record, or as the same accepted proposal. (A state found absent is: no record, and no
   * proposal above the committed ballots, which a replica reporting them would hold a record of.)
   */
  private boolean knownChosen(Record record) {
    int holders = 0;
    Map<Version, Integer> proposals = new LinkedHashMap<>();
    for (Promised promise : promised.values()) {
      if (promise.record().filter(held -> same(held, record)).isPresent()) {
        holders++;
      }
      promise.accepted().filter(proposal -> same(proposal.record(), record))
          .ifPresent(proposal -> proposals.merge(proposal.ballot(), 1, Integer::sum));
    }
    return holders >= majority || proposals.values().stream().anyMatch(count -> count >= majority);
  }

  private static boolean same(Record a, Record b) {
    return a.version().equals(b.version()) && a.digest() == b.digest();
  }

  private void accept(Record record, boolean own, Outcome outcome, List<RoundEffect<Outcome>> effects) {
    state = State.ACCEPTING;
    proposed = record;
    proposingOwn = own;
    ownAcceptSent |= own;
    onChosen = outcome;
    accepts = new QuorumTracker(replicas.size(), acceptsRequired);
    for (String replica : replicas) {
      effects.add(new Send<>(replica, new Accept(key, ballot, record, stamp(), cause), tag(2)));
    }
  }

  private void onAccept(Answered answered, List<RoundEffect<Outcome>> effects) {
    String replica = answered.replica();
    if (!replicas.contains(replica) || accepts.hasAnswered(replica)) {
      return;
    }
    QuorumTracker.Outcome outcome;
    if (answered.answer() instanceof Accepted accepted && accepted.ballot().equals(ballot)
        && clock.admit(replica, "accept answer", accepted.stamp().clock())) {
      outcome = accepts.succeeded(replica);
    } else {
      if (answered.answer() instanceof Preempted refusal
          && clock.admit(replica, "preempted answer", refusal.stamp().clock(), refusal.highest().hlc())) {
        preempted = true;
      }
      outcome = accepts.failed(replica);
    }
    if (outcome == QuorumTracker.Outcome.REACHED) {
      finish(onChosen, effects);
      for (String target : replicas) {
        effects.add(new Send<>(target, new Commit(key, ballot, proposed, stamp(), cause), tag(3)));
      }
    } else if (outcome == QuorumTracker.Outcome.FAILED) {
      if (preempted && !proposingOwn) {
        backOff(effects); // a settle may run again: it proposes nothing new
      } else {
        finish(new Failed(Phase.ACCEPT, accepts.successes(), accepts.required(), accepts.replicas(), ownAcceptSent),
            effects);
      }
    }
  }

  private void backOff(List<RoundEffect<Outcome>> effects) {
    if (attempt + 1 >= ATTEMPTS_MAX) {
      finish(ownAcceptSent
          ? new Failed(Phase.ACCEPT, 0, acceptsRequired, replicas.size(), true)
          : new Contended(attempt + 1), effects);
      return;
    }
    state = State.BACKING_OFF;
    long boundMillis = BACKOFF_BASE.toMillis() << Math.min(attempt, 10);
    effects.add(new StartBackoffTimer<>(Duration.ofMillis(1 + random.nextLong(boundMillis))));
  }

  private void finish(Outcome outcome, List<RoundEffect<Outcome>> effects) {
    state = State.FINISHED;
    effects.add(new Reply<>(outcome));
  }

  private Stamp stamp() {
    return new Stamp(replicaId, clock.peek());
  }
}
