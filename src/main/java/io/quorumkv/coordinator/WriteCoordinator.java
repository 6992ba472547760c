package io.quorumkv.coordinator;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import io.quorumkv.faults.DeliberateBug;
import io.quorumkv.replication.HintedHandoff;
import io.quorumkv.store.Record;
import io.quorumkv.store.ReplicaHandle;
import io.quorumkv.store.ReplicaProtocol.Answer;
import io.quorumkv.store.ReplicaProtocol.Applied;
import io.quorumkv.store.ReplicaProtocol.Apply;
import io.quorumkv.store.ReplicaProtocol.Cause;
import io.quorumkv.store.ReplicaProtocol.ReadVersion;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.store.ReplicaProtocol.Unavailable;
import io.quorumkv.store.ReplicaProtocol.VersionHeld;
import io.quorumkv.store.ReplicaStats;
import io.quorumkv.store.Value;
import io.quorumkv.version.HybridLogicalClock;
import io.quorumkv.version.Version;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Serves one write (PUT or DELETE) and stops: the two rounds of a multi-writer ABD register
 * (DESIGN.md section 6).
 *
 * <ol>
 *   <li>Version query: {@link ReadVersion} to the replicas (all, or R first: see
 *       {@link Fanout}); after R answers, the clock moves
 *       past every version and clock reading they carried and issues this write's version, so
 *       it is higher than every version of a write that completed before this one started,
 *       whatever the wall clocks say.
 *   <li>Apply: {@link Apply} to all N; an answer holding this version (same digest) or a newer
 *       one counts toward W. Replies once W count.
 * </ol>
 *
 * No Apply leaves before the query round completed. One absolute deadline covers both rounds;
 * the coordinator always replies exactly once, then keeps listening for the remaining
 * answers until all came or the deadline passed (later: hints for the silent ones).
 */
public final class WriteCoordinator extends AbstractBehavior<WriteCoordinator.Command> {

  public sealed interface Command {}

  /** A replica answered (adapted from {@link Answer}). */
  public record ReplicaAnswered(Answer answer) implements Command {}

  private enum DeadlinePassed implements Command { INSTANCE }

  /** The hedge delay passed with the version query still open: ask the replicas not asked. */
  private enum HedgeDelayPassed implements Command { INSTANCE }

  /** The reply to the requester. */
  public sealed interface Result permits Written, QuorumNotReached, Overloaded, NotStarted {}

  /** W replicas durably hold {@code version} (or newer) of the key. */
  public record Written(String key, Version version) implements Result {}

  /** What to write: a value, or a tombstone when {@code value} is empty. */
  public record Write(String key, Optional<Value> value) {}

  private final Write write;
  private final List<ReplicaHandle> replicas;
  private final Consistency consistency;
  private final HybridLogicalClock clock;
  private final long replicaId;
  private final ReplicaStats stats;
  private final ActorRef<Result> replyTo;
  private final ActorRef<Answer> answers;
  private final ActorRef<HintedHandoff.Command> hints; // null: hinted handoff is off

  private final QuorumTracker query;
  private final QuorumTracker apply;
  private final Set<String> queried = new HashSet<>();
  private Record record; // set when the query round completes
  private boolean replied;
  private final boolean skipVersionQuery; // DeliberateBug.ONE_ROUND_WRITES

  /**
   * @param replicas all N replicas of the key, the local one first
   * @param timeout the deadline for both rounds together
   */
  public static Behavior<Command> create(
      Write write,
      Consistency consistency,
      List<ReplicaHandle> replicas,
      HybridLogicalClock clock,
      long replicaId,
      ReplicaStats stats,
      ActorRef<HintedHandoff.Command> hints,
      ActorRef<Result> replyTo,
      Duration timeout,
      Fanout fanout,
      Set<DeliberateBug> bugs) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new WriteCoordinator(
        ctx, timers, write, consistency, replicas, clock, replicaId, stats, hints, replyTo, timeout, fanout,
        bugs.contains(DeliberateBug.ONE_ROUND_WRITES))));
  }

  private WriteCoordinator(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      Write write,
      Consistency consistency,
      List<ReplicaHandle> replicas,
      HybridLogicalClock clock,
      long replicaId,
      ReplicaStats stats,
      ActorRef<HintedHandoff.Command> hints,
      ActorRef<Result> replyTo,
      Duration timeout,
      Fanout fanout,
      boolean skipVersionQuery) {
    super(ctx);
    this.skipVersionQuery = skipVersionQuery;
    this.hints = hints;
    this.write = write;
    this.replicas = replicas;
    this.consistency = consistency;
    this.clock = clock;
    this.replicaId = replicaId;
    this.stats = stats;
    this.replyTo = replyTo;
    this.answers = ctx.messageAdapter(Answer.class, ReplicaAnswered::new);
    int n = replicas.size();
    // ONE takes its version from the local replica alone (DESIGN.md section 6).
    this.query = consistency == Consistency.ONE
        ? new QuorumTracker(1, 1)
        : new QuorumTracker(n, consistency.required(n));
    this.apply = new QuorumTracker(n, consistency.required(n));
    timers.startSingleTimer(DeadlinePassed.INSTANCE, timeout);
    if (skipVersionQuery) {
      startApply(); // the deliberate bug: stamped by the local clock alone
      return;
    }
    List<ReplicaHandle> targets = queryTargets();
    int first = fanout.firstAsked(targets.size(), query.required());
    targets.subList(0, first).forEach(this::queryVersion);
    if (first < targets.size()) {
      timers.startSingleTimer(HedgeDelayPassed.INSTANCE, fanout.hedgeDelay());
    }
  }

  private void queryVersion(ReplicaHandle replica) {
    queried.add(replica.name());
    replica.send(new ReadVersion(write.key(), stamp(), answers));
  }

  /** While the version query is open: asks the replicas not asked yet. */
  private void queryTheRest() {
    if (record == null && !replied) {
      queryTargets().stream().filter(replica -> !queried.contains(replica.name())).forEach(this::queryVersion);
    }
  }

  private boolean wasQueried(String replica) {
    return queried.contains(replica);
  }

  private List<ReplicaHandle> queryTargets() {
    if (skipVersionQuery) {
      return List.of();
    }
    return consistency == Consistency.ONE ? replicas.subList(0, 1) : replicas;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(ReplicaAnswered.class, message -> onAnswer(message.answer()))
        .onMessageEquals(DeadlinePassed.INSTANCE, this::onDeadline)
        .onMessageEquals(HedgeDelayPassed.INSTANCE, () -> {
          queryTheRest();
          return this;
        })
        .build();
  }

  private Behavior<Command> onAnswer(Answer answer) {
    if (record == null) {
      onQueryAnswer(answer);
    } else {
      onApplyAnswer(answer);
    }
    if (done()) {
      hintUnacknowledged();
      return Behaviors.stopped();
    }
    return this;
  }

  private void onQueryAnswer(Answer answer) {
    if (query.hasAnswered(answer.replica())) {
      return;
    }
    QuorumTracker.Outcome outcome;
    if (answer instanceof VersionHeld held
        && clock.admit(held.replica(), "version query answer", held.version().hlc(), held.stamp().clock())) {
      // Admitted means observed: the tick in startApply() lies above this answer's readings.
      outcome = query.succeeded(held.replica());
    } else if (answer instanceof Unavailable || answer instanceof VersionHeld) {
      // Unavailable, or an answer from further ahead than max-clock-offset (refused, never
      // observed): a failed answer either way.
      outcome = query.failed(answer.replica());
      queryTheRest();
    } else {
      return; // not an answer to a version query: a confused replica, ignored
    }
    if (outcome == QuorumTracker.Outcome.REACHED) {
      startApply();
    } else if (outcome == QuorumTracker.Outcome.FAILED) {
      reply(new QuorumNotReached(Phase.VERSION_QUERY, query.successes(), query.required(), query.replicas()));
    }
  }

  private void startApply() {
    long hlc;
    try {
      hlc = clock.tick();
    } catch (RuntimeException e) {
      // The clock's next mark could not be recorded (see HybridLogicalClock.admit): nothing was
      // sent yet, so the write did not happen.
      reply(new NotStarted("the clock's next durable mark cannot be recorded: " + e.getMessage(),
          NotStarted.STORAGE));
      return;
    }
    Version version = new Version(hlc, replicaId);
    record = new Record(version, write.value().orElse(null));
    getContext().getLog().debug("Write [{}] takes version [{}]", write.key(), version);
    for (ReplicaHandle replica : replicas) {
      replica.send(new Apply(write.key(), record, stamp(), answers, Cause.WRITE));
    }
  }

  private void onApplyAnswer(Answer answer) {
    if (apply.hasAnswered(answer.replica())) {
      return;
    }
    if (answer instanceof Unavailable && wasQueried(answer.replica()) && !query.hasAnswered(answer.replica())) {
      // Its version query had not answered yet: this failure most likely belongs to that query
      // (answers carry no round). Counting it against the Apply could fail a write that this
      // replica then acknowledges; at worst, its Apply failure is noticed at the deadline.
      query.failed(answer.replica());
      return;
    }
    QuorumTracker.Outcome outcome;
    if (answer instanceof Applied applied && clock.admit(applied.replica(), "apply answer", applied.stamp().clock(),
        applied.version().hlc()) && holdsThisWriteOrNewer(applied)) {
      outcome = apply.succeeded(applied.replica());
    } else if (answer instanceof Applied || answer instanceof Unavailable) {
      outcome = apply.failed(answer.replica());
    } else {
      // A late version-query answer: the query round is over, but it settles which round this
      // replica's next failure belongs to (the Apply's, from now on).
      if (answer instanceof VersionHeld && wasQueried(answer.replica()) && !query.hasAnswered(answer.replica())) {
        query.succeeded(answer.replica());
      }
      return;
    }
    if (outcome == QuorumTracker.Outcome.REACHED) {
      reply(new Written(write.key(), record.version()));
    } else if (outcome == QuorumTracker.Outcome.FAILED) {
      reply(new QuorumNotReached(Phase.APPLY, apply.successes(), apply.required(), apply.replicas()));
    }
  }

  /** A newer version counts: a concurrent write overtook this one, which ABD allows. */
  private boolean holdsThisWriteOrNewer(Applied applied) {
    int order = applied.version().compareTo(record.version());
    if (order == 0 && applied.digest() != record.digest()) {
      stats.digestConflict(write.key(), applied.version(), "apply answer from " + applied.replica());
      return false;
    }
    return order >= 0;
  }

  private Behavior<Command> onDeadline() {
    if (record == null) {
      reply(new QuorumNotReached(Phase.VERSION_QUERY, query.successes(), query.required(), query.replicas()));
    } else {
      reply(new QuorumNotReached(Phase.APPLY, apply.successes(), apply.required(), apply.replicas()));
    }
    hintUnacknowledged();
    return Behaviors.stopped();
  }

  /** Peers that did not acknowledge the Apply get a hint, replayed when they answer again. */
  private void hintUnacknowledged() {
    if (hints == null || record == null) {
      return; // hinted handoff is off, or nothing was applied anywhere
    }
    List<String> missed = replicas.subList(1, replicas.size()).stream()
        .map(ReplicaHandle::name)
        .filter(name -> !apply.hasSucceeded(name))
        .toList();
    if (!missed.isEmpty()) {
      hints.tell(new HintedHandoff.RecordHints(write.key(), missed));
    }
  }

  private void reply(Result result) {
    if (!replied) {
      replied = true;
      replyTo.tell(result);
    }
  }

  /** Replied, and nothing is left to hear: every replica of the running round answered. */
  private boolean done() {
    if (!replied) {
      return false;
    }
    return record == null || apply.answers() == replicas.size();
  }

  private Stamp stamp() {
    return new Stamp(replicaId, clock.peek());
  }
}
