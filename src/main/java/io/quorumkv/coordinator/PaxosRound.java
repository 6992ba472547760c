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
import io.quorumkv.store.ReplicaProtocol.FastAccept;
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
 * <p>The fast round (docs/conditional-writes.md, revision 8): a conditional write may first send
 * {@link FastAccept} of its new record to every replica, with no prepare. Taken by all, the
 * record is chosen in one round trip. Otherwise the round falls back to the classic round, whose
 * goal then remembers the fast record: it may have been chosen (or be adopted later), so the
 * round accepts that very record (never a second version of the write), answers the condition
 * false only once the state it compared against was accepted by a majority above the fast
 * ballot (which kills the fast proposal), and never answers "not applied".
 *
 * <p>Round tags: attempt {@code a} prepares under {@code 100 + 10a + 1}, accepts under
 * {@code + 2} and commits under {@code + 3}; the fast accept goes under {@code 104} and its commit
 * under {@code 105}. So a parent round's own tags (below 100) and an earlier attempt's late
 * answers never mix with this attempt's.
 */
public final class PaxosRound {

  /** What a round accepts. */
  public sealed interface Goal permits Conditional, SettleOwn, Settle {}

  /**
   * A conditional write: {@code value} (empty: a tombstone) with {@code ttlMillis} (0: none) at the
   * ballot, if {@code condition} holds.
   */
  public record Conditional(Condition condition, Optional<Value> value, long ttlMillis) implements Goal {
    Record recordAt(Version ballot) {
      return new Record(ballot, value.orElse(null), ttlMillis);
    }
  }

  /** A plain write that was fenced: its own record, at its own version, unless the state is newer. */
  public record SettleOwn(Record record) implements Goal {}

  /** Whatever the state is: commits it, so it may be served. */
  public record Settle() implements Goal {}

  /** How the round ended. */
  public sealed interface Outcome {}

  /** A majority accepted {@code record} under {@code ballot}: it is chosen. */
  public record Chosen(Record record, Version ballot) implements Outcome {}

  /** A settle found the key absent: a majority accepted the empty value, and it is committed. */
  public record Absent() implements Outcome {}

  /**
   * The condition was false on {@code state}, which is committed (found chosen, or settled first),
   * as judged by the coordinator's clock reading {@code clockMillis}: the 412 names the value
   * current at that reading, never a later one (whose expiry it would observe unsettled).
   */
  public record ConditionFalse(Optional<Record> state, long clockMillis) implements Outcome {}

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

  public enum State { FAST_ACCEPTING, PREPARING, BACKING_OFF, ACCEPTING, FINISHED }

  /** What became of the fast round: not tried, chosen by every replica, or fallen back to the classic round. */
  public enum FastPath { NOT_TRIED, CHOSEN, FELL_BACK }

  /** Attempts before a contended round gives up. */
  public static final int ATTEMPTS_MAX = 8;
  /** The first backoff's upper bound; each attempt doubles it. */
  static final Duration BACKOFF_BASE = Duration.ofMillis(4);
  static final long TAG_BASE = 100;
  static final long FAST_ACCEPT_TAG = TAG_BASE + 4;
  static final long FAST_COMMIT_TAG = TAG_BASE + 5;

  private final String key;
  private final Goal goal;
  private final List<String> replicas;
  private final int majority;
  private final int acceptsRequired;
  private final HybridLogicalClock clock;
  private final long replicaId;
  private final RandomGenerator random;
  private final Cause cause;
  /** How long the fast accept waits for every replica before the classic round; null: no fast round. */
  private final Duration fastWait;

  private State state = State.PREPARING;
  private int attempt = -1;
  private Version ballot;
  private QuorumTracker promises;
  private final Map<String, Promised> promised = new LinkedHashMap<>();
  private boolean preempted;
  private QuorumTracker accepts;
  private QuorumTracker fastAccepts;
  /** The conditional write's record at the fast ballot, once a fast accept of it was sent. */
  private Record fastRecord;
  private boolean fastRefused;
  /** Replicas that answered the fast accept unavailable or not at all in time. */
  private final java.util.Set<String> fastUnavailable = new java.util.TreeSet<>();
  private FastPath fastPath = FastPath.NOT_TRIED;
  private Optional<Record> proposed;
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
    this(key, goal, consistency, replicas, clock, replicaId, random, cause, null);
  }

  /**
   * @param fastWait for a conditional write: try the fast round first, falling back to the
   *     classic round when a replica refuses or {@code fastWait} passes without every answer;
   *     null for none
   */
  public PaxosRound(String key, Goal goal, Consistency consistency, List<String> replicas, HybridLogicalClock clock,
      long replicaId, RandomGenerator random, Cause cause, Duration fastWait) {
    if (fastWait != null && !(goal instanceof Conditional)) {
      throw new IllegalArgumentException("only a conditional write has a fast round");
    }
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
    this.fastWait = fastWait;
  }

  /** Whether a replica refused this round's fast accept (the coordinator skips the next one on the key). */
  public boolean fastRefused() {
    return fastRefused;
  }

  public FastPath fastPath() {
    return fastPath;
  }

  /**
   * The replicas that did not take part in this round's fast accept (answered unavailable, or
   * not within the fast wait): while one of them is not ready or slow, fast rounds only add a
   * round trip, so the coordinator skips them for a while.
   */
  public java.util.Set<String> fastUnavailable() {
    return java.util.Collections.unmodifiableSet(fastUnavailable);
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
      if (fastWait != null) {
        fastAccept(effects);
      } else {
        prepare(effects);
      }
    } else if (event instanceof BackoffPassed) {
      if (state == State.FAST_ACCEPTING) {
        // A fast accept not answered by every replica in time: the classic round.
        replicas.stream().filter(replica -> !fastAccepts.hasAnswered(replica)).forEach(fastUnavailable::add);
        prepare(effects);
      } else if (state == State.BACKING_OFF) {
        prepare(effects);
      }
    } else if (event instanceof Answered answered) {
      if (answered.round() == FAST_ACCEPT_TAG && state == State.FAST_ACCEPTING) {
        onFastAccept(answered, effects);
      } else if (answered.round() == tag(1) && state == State.PREPARING) {
        onPromise(answered, effects);
      } else if (answered.round() == tag(2) && state == State.ACCEPTING) {
        onAccept(answered, effects);
      }
      // Else a commit's answer, or a late answer of an earlier attempt: it changes nothing.
    } else if (event instanceof DeadlinePassed) {
      if (state == State.ACCEPTING) {
        finish(new Failed(Phase.ACCEPT, accepts.successes(), accepts.required(), accepts.replicas(), ownAcceptSent),
            effects);
      } else if (state == State.FAST_ACCEPTING) {
        finish(new Failed(Phase.ACCEPT, fastAccepts.successes(), fastAccepts.required(), fastAccepts.replicas(),
            ownAcceptSent), effects);
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

  /**
   * The fast round: the new record at a fresh ballot, to every replica, with no prepare. Skipped
   * (straight to the classic round) when the ballot would not exceed the version the client
   * expects: that version came from a clock ahead of this one, and is never fed to this clock.
   */
  private void fastAccept(List<RoundEffect<Outcome>> effects) {
    Conditional conditional = (Conditional) goal;
    Optional<Version> expected = conditional.condition() instanceof Condition.IfMatch match
        ? Optional.of(match.expected()) : Optional.empty();
    Optional<Version> drawn = freshBallot();
    if (drawn.isEmpty()) {
      finish(new Failed(Phase.PREPARE, 0, majority, replicas.size(), false), effects);
      return;
    }
    Version fastBallot = drawn.get();
    if (expected.isPresent() && !fastBallot.isAfter(expected.get())) {
      prepare(effects);
      return;
    }
    state = State.FAST_ACCEPTING;
    fastRecord = conditional.recordAt(fastBallot);
    ownAcceptSent = true; // from here on, never "not applied"
    fastAccepts = new QuorumTracker(replicas.size(), replicas.size());
    for (String replica : replicas) {
      effects.add(new Send<>(replica, new FastAccept(key, fastBallot, expected, fastRecord, stamp()),
          FAST_ACCEPT_TAG));
    }
    effects.add(new StartBackoffTimer<>(fastWait));
  }

  /** A ballot from this replica's clock; empty when the clock's next durable mark could not be recorded. */
  private Optional<Version> freshBallot() {
    try {
      return Optional.of(new Version(clock.tick(), replicaId));
    } catch (RuntimeException e) {
      return Optional.empty(); // no ballot: nothing is sent
    }
  }

  private void onFastAccept(Answered answered, List<RoundEffect<Outcome>> effects) {
    String replica = answered.replica();
    if (!replicas.contains(replica) || fastAccepts.hasAnswered(replica)) {
      return;
    }
    QuorumTracker.Outcome outcome;
    if (answered.answer() instanceof Accepted accepted && accepted.ballot().equals(fastRecord.version())
        && clock.admit(replica, "fast accept answer", accepted.stamp().clock())) {
      outcome = fastAccepts.succeeded(replica);
    } else {
      if (answered.answer() instanceof Preempted refusal) {
        fastRefused = true;
        clock.admit(replica, "preempted answer", refusal.stamp().clock(), refusal.highest().hlc());
      } else {
        fastUnavailable.add(replica);
      }
      outcome = fastAccepts.failed(replica);
    }
    if (outcome == QuorumTracker.Outcome.REACHED) {
      // Every replica took it: chosen, and no other round can choose anything else at that ballot.
      fastPath = FastPath.CHOSEN;
      finish(new Chosen(fastRecord, fastRecord.version()), effects);
      for (String target : replicas) {
        effects.add(new Send<>(target, new Commit(key, fastRecord.version(), Optional.of(fastRecord), stamp(), cause),
            FAST_COMMIT_TAG));
      }
    } else if (outcome == QuorumTracker.Outcome.FAILED) {
      prepare(effects);
    }
  }

  private void prepare(List<RoundEffect<Outcome>> effects) {
    if (state == State.FAST_ACCEPTING) {
      fastPath = FastPath.FELL_BACK;
    }
    attempt++;
    Optional<Version> drawn = freshBallot();
    if (drawn.isEmpty()) {
      finish(new Failed(Phase.PREPARE, 0, majority, replicas.size(), ownAcceptSent), effects);
      return;
    }
    ballot = drawn.get();
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
    if (goal instanceof Conditional conditional && fastRecord != null) {
      decideAfterFastAttempt(conditional, found, effects);
    } else if (goal instanceof Conditional conditional) {
      long now = clockMillis(); // one reading judges the condition and what the 412 names
      if (conditional.condition().holds(found, now)) {
        Record record = conditional.recordAt(ballot);
        accept(Optional.of(record), true, new Chosen(record, ballot), effects);
      } else if (found.isEmpty() || knownChosen(found.get()) && !expiredValue(found.get(), now)) {
        finish(new ConditionFalse(found, now), effects);
      } else {
        // Not known chosen, or an expired value: a 412 that observes the expiry is answered only
        // once this ballot chose the state, so a conditional write on the value still in flight
        // is chosen before it or never (docs/listing-watch-ttl.md, "Conditions on an expiring
        // value", revision 8).
        accept(found, false, new ConditionFalse(found, now), effects);
      }
    } else if (goal instanceof SettleOwn own) {
      if (found.isPresent() && found.get().version().isAfter(own.record().version())) {
        finish(new Dominated(found.get()), effects);
      } else {
        accept(Optional.of(own.record()), false, new Chosen(own.record(), ballot), effects);
      }
    } else if (found.isEmpty()) {
      accept(Optional.empty(), false, new Absent(), effects); // the empty value: clears what is left
    } else {
      accept(found, false, new Chosen(found.get(), ballot), effects);
    }
  }

  /**
   * The classic round after a fast attempt (docs/conditional-writes.md, revision 8): the fast
   * record may be chosen already or adopted later, so only that record is ever accepted for this
   * write, and the condition is answered false only after the state it was compared against has
   * been accepted by a majority above the fast ballot.
   */
  private void decideAfterFastAttempt(Conditional conditional, Optional<Record> found,
      List<RoundEffect<Outcome>> effects) {
    Chosen own = new Chosen(fastRecord, fastRecord.version());
    if (found.isPresent() && same(found.get(), fastRecord)) {
      accept(found, true, own, effects); // the fast record is the state: adopt it
    } else if (found.isPresent() && found.get().version().isAfter(fastRecord.version())) {
      // A newer record than the fast one is the state. The fast record may have been chosen
      // (adopted by another round) and overwritten since, or may never be: nothing here tells
      // which, so the outcome is indeterminate. (Settling that state and answering 412 would be
      // wrong: the simulation found a fast record read by a client, then answered 412.)
      finish(new Failed(Phase.ACCEPT, 0, acceptsRequired, replicas.size(), true), effects);
    } else {
      long now = clockMillis();
      if (conditional.condition().holds(found, now)) {
        accept(Optional.of(fastRecord), true, own, effects);
      } else {
        accept(found, false, new ConditionFalse(found, now), effects);
      }
    }
  }

  /** A value whose TTL has passed by the clock reading {@code clockMillis} (not a tombstone). */
  private static boolean expiredValue(Record record, long clockMillis) {
    return record.hasTtl() && record.isAbsentAt(clockMillis);
  }

  /** This coordinator's clock, which judges whether a record's TTL has passed. */
  private long clockMillis() {
    return HybridLogicalClock.millisOf(clock.peek());
  }

  /**
   * The state a quorum of promises reports: of the proposals above the highest committed ballot,
   * the one with the highest ballot (classic Paxos: only it can have been chosen), and the newest
   * record reported; the newer of the two by version. Empty: nothing at all.
   */
  static Optional<Record> stateOf(java.util.Collection<Promised> promises) {
    Version highestCommitted = Version.ZERO;
    for (Promised promise : promises) {
      highestCommitted = Version.max(highestCommitted, promise.committed());
    }
    Version committed = highestCommitted;
    Optional<Proposal> candidate = Optional.empty();
    Optional<Record> newest = Optional.empty();
    for (Promised promise : promises) {
      Optional<Proposal> accepted = promise.accepted()
          .filter(proposal -> proposal.ballot().isAfter(committed))
          // A fast proposal was chosen only if every replica took it: it counts only when every
          // promise of the quorum carries it (a replica that promised without it never takes it).
          .filter(proposal -> !proposal.fast() || promises.stream().allMatch(
              other -> other.accepted().filter(proposal::equals).isPresent()));
      if (accepted.isPresent() && (candidate.isEmpty() || accepted.get().ballot().isAfter(candidate.get().ballot()))) {
        candidate = accepted;
      }
      newest = newer(newest, promise.record());
    }
    // The empty value as the candidate contributes nothing, and hides the lower proposals.
    return newer(newest, candidate.flatMap(Proposal::record));
  }

  /** The newer by version; at one version the higher digest, so every coordinator picks the same one. */
  private static Optional<Record> newer(Optional<Record> a, Optional<Record> b) {
    int order = Record.versionOf(b).compareTo(Record.versionOf(a));
    return order > 0 || order == 0 && Record.digestOf(b) > Record.digestOf(a) ? b : a;
  }

  /**
   * Whether the state is known to be chosen without a settle: a majority of promises report it as
   * their record, or as the same accepted proposal (all three, for a fast one). A state found
   * absent needs no settle either, though a proposal may have been passed over (a fast one that
   * not every promise carries, or one the empty value hides): nothing was chosen below this
   * ballot (Lemma 2), and absence is the bottom of the version order, so a record chosen later is
   * ordered after this answer (docs/conditional-writes.md, "The fast round, built").
   */
  private boolean knownChosen(Record record) {
    int holders = 0;
    Map<Proposal, Integer> proposals = new LinkedHashMap<>();
    for (Promised promise : promised.values()) {
      if (promise.record().filter(held -> same(held, record)).isPresent()) {
        holders++;
      }
      promise.accepted().filter(proposal -> proposal.record().filter(r -> same(r, record)).isPresent())
          .ifPresent(proposal -> proposals.merge(proposal, 1, Integer::sum));
    }
    // A fast proposal is known chosen only when every replica carries it.
    return holders >= majority || proposals.entrySet().stream()
        .anyMatch(carried -> carried.getValue() >= (carried.getKey().fast() ? replicas.size() : majority));
  }

  private static boolean same(Record a, Record b) {
    return a.version().equals(b.version()) && a.digest() == b.digest();
  }

  /** Sends the accept of {@code record} (empty: the empty value) under this attempt's ballot. */
  private void accept(Optional<Record> record, boolean own, Outcome outcome, List<RoundEffect<Outcome>> effects) {
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
      if (preempted && (!proposingOwn || fastRecord != null)) {
        // A settle may run again: it proposes nothing new. So may the classic round after a
        // fast attempt: it only ever proposes the fast record, at its one version.
        backOff(effects);
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
