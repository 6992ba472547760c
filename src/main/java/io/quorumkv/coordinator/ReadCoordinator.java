package io.quorumkv.coordinator;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import io.quorumkv.faults.DeliberateBug;
import io.quorumkv.store.Record;
import io.quorumkv.store.ReplicaHandle;
import io.quorumkv.store.ReplicaProtocol.Answer;
import io.quorumkv.store.ReplicaProtocol.Applied;
import io.quorumkv.store.ReplicaProtocol.Apply;
import io.quorumkv.store.ReplicaProtocol.Cause;
import io.quorumkv.store.ReplicaProtocol.Read;
import io.quorumkv.store.ReplicaProtocol.RecordHeld;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.store.ReplicaProtocol.Unavailable;
import io.quorumkv.store.ReplicaStats;
import io.quorumkv.version.HybridLogicalClock;
import io.quorumkv.version.Version;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Serves one read and stops (DESIGN.md section 6).
 *
 * <p>{@link Read} goes to the replicas (all, or R first: see {@link Fanout}); after R answers
 * the newest record among them is chosen. If W replicas already hold it (the common case: the two answers agree) the read
 * replies at once. Otherwise it writes the record back to the stale replicas and replies only
 * when W hold it, so no later read can return an older record: that is what makes a quorum
 * read linearizable. Answers arriving after the choice are repaired in the background.
 */
public final class ReadCoordinator extends AbstractBehavior<ReadCoordinator.Command> {

  public sealed interface Command {}

  /** A replica answered (adapted from {@link Answer}). */
  public record ReplicaAnswered(Answer answer) implements Command {}

  private enum DeadlinePassed implements Command { INSTANCE }

  /** The hedge delay passed with no reply yet: ask the replicas not asked so far. */
  private enum HedgeDelayPassed implements Command { INSTANCE }

  /** The reply to the requester. */
  public sealed interface Result permits Found, NotFound, QuorumNotReached, Overloaded, NotStarted {}

  /** The newest record of the key is a value. */
  public record Found(String key, Record record) implements Result {}

  /** The key was never written, or its newest record is a tombstone. */
  public record NotFound(String key) implements Result {}

  private final String key;
  private final List<ReplicaHandle> targets;
  private final HybridLogicalClock clock;
  private final long replicaId;
  private final ReplicaStats stats;
  private final ActorRef<Result> replyTo;
  private final ActorRef<Answer> answers;

  private final QuorumTracker read;
  private final Map<String, Optional<Record>> held = new HashMap<>();
  private final Set<String> repairing = new HashSet<>();
  private final Set<String> unreachable = new HashSet<>();
  private final Set<String> asked = new HashSet<>();
  private final int holdersRequired;
  private QuorumTracker holders; // set once the newest record is chosen
  private Optional<Record> chosen;
  private boolean replied;
  private final boolean skipWriteBack; // DeliberateBug.NO_READ_WRITE_BACK

  /**
   * @param replicas all N replicas of the key, the local one first; {@code ONE} reads only
   *     the local one
   */
  public static Behavior<Command> create(
      String key,
      Consistency consistency,
      List<ReplicaHandle> replicas,
      HybridLogicalClock clock,
      long replicaId,
      ReplicaStats stats,
      ActorRef<Result> replyTo,
      Duration timeout,
      Fanout fanout,
      Set<DeliberateBug> bugs) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new ReadCoordinator(
        ctx, timers, key, consistency, replicas, clock, replicaId, stats, replyTo, timeout, fanout,
        bugs.contains(DeliberateBug.NO_READ_WRITE_BACK))));
  }

  private ReadCoordinator(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      String key,
      Consistency consistency,
      List<ReplicaHandle> replicas,
      HybridLogicalClock clock,
      long replicaId,
      ReplicaStats stats,
      ActorRef<Result> replyTo,
      Duration timeout,
      Fanout fanout,
      boolean skipWriteBack) {
    super(ctx);
    this.skipWriteBack = skipWriteBack;
    this.key = key;
    this.targets = consistency == Consistency.ONE ? replicas.subList(0, 1) : replicas;
    this.clock = clock;
    this.replicaId = replicaId;
    this.stats = stats;
    this.replyTo = replyTo;
    this.answers = ctx.messageAdapter(Answer.class, ReplicaAnswered::new);
    this.read = new QuorumTracker(targets.size(), consistency.required(targets.size()));
    this.holdersRequired = consistency.required(targets.size());
    timers.startSingleTimer(DeadlinePassed.INSTANCE, timeout);
    int first = fanout.firstAsked(targets.size(), read.required());
    targets.subList(0, first).forEach(this::ask);
    if (first < targets.size()) {
      timers.startSingleTimer(HedgeDelayPassed.INSTANCE, fanout.hedgeDelay());
    }
  }

  private void ask(ReplicaHandle replica) {
    asked.add(replica.name());
    replica.send(new Read(key, stamp(), answers));
  }

  /** Asks the replicas not asked yet; their answers count like any other (late ones repair). */
  private void askTheRest() {
    targets.stream().filter(replica -> !asked.contains(replica.name())).forEach(this::ask);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(ReplicaAnswered.class, message -> onAnswer(message.answer()))
        .onMessageEquals(DeadlinePassed.INSTANCE, this::onDeadline)
        .onMessageEquals(HedgeDelayPassed.INSTANCE, () -> {
          if (!replied) {
            askTheRest();
          }
          return done() ? Behaviors.stopped() : this;
        })
        .build();
  }

  private Behavior<Command> onAnswer(Answer answer) {
    if (answer instanceof RecordHeld recordHeld) {
      onRecordHeld(recordHeld);
    } else if (answer instanceof Applied applied) {
      onWrittenBack(applied);
    } else if (answer instanceof Unavailable unavailable) {
      onUnavailable(unavailable);
    }
    return done() ? Behaviors.stopped() : this;
  }

  private void onRecordHeld(RecordHeld answer) {
    if (held.containsKey(answer.replica()) || unreachable.contains(answer.replica())) {
      return; // a duplicate answer changes nothing
    }
    if (!clock.admit(answer.replica(), "read answer", answer.stamp().clock(), Record.versionOf(answer.record()).hlc())) {
      // From further ahead than max-clock-offset: as if that replica never answered.
      onUnavailable(new Unavailable(answer.replica(), "clock reading refused"));
      return;
    }
    held.put(answer.replica(), answer.record());
    if (chosen == null) {
      if (read.succeeded(answer.replica()) == QuorumTracker.Outcome.REACHED) {
        choose();
      }
    } else {
      judgeLateAnswer(answer.replica(), answer.record());
    }
  }

  /** The first R answers are in: take the newest, reply if W hold it, else write it back. */
  private void choose() {
    chosen = newest(held.values());
    if (skipWriteBack) {
      reply(chosen.filter(record -> !record.isTombstone())
          .<Result>map(record -> new Found(key, record))
          .orElse(new NotFound(key)));
      return;
    }
    holders = new QuorumTracker(targets.size(), holdersRequired);
    for (Map.Entry<String, Optional<Record>> answer : held.entrySet()) {
      if (holdsChosenOrNewer(answer.getValue())) {
        holders.succeeded(answer.getKey());
      } else {
        writeBack(answer.getKey());
      }
    }
    if (!repairing.isEmpty()) {
      stats.readWroteBack();
      getContext().getLog().debug("Read [{}] writes back [{}] to {}", key, Record.versionOf(chosen), repairing);
    }
    replyIfHeld();
  }

  private void judgeLateAnswer(String replica, Optional<Record> record) {
    if (holdsChosenOrNewer(record)) {
      holders.succeeded(replica);
      replyIfHeld();
    } else {
      stats.readRepaired();
      writeBack(replica);
    }
  }

  private void onWrittenBack(Applied applied) {
    if (chosen == null || !repairing.contains(applied.replica())) {
      return;
    }
    if (!clock.admit(applied.replica(), "write-back answer", applied.stamp().clock(), applied.version().hlc())) {
      onUnavailable(new Unavailable(applied.replica(), "clock reading refused"));
      return;
    }
    repairing.remove(applied.replica());
    if (holdsChosenOrNewer(applied.version(), applied.digest())) {
      holders.succeeded(applied.replica());
    } else {
      holders.failed(applied.replica());
    }
    replyIfHeld();
  }

  private void onUnavailable(Unavailable answer) {
    if (held.containsKey(answer.replica()) && !repairing.contains(answer.replica())) {
      return; // it answered already and nothing of ours is outstanding there
    }
    unreachable.add(answer.replica());
    if (!replied) {
      askTheRest(); // its answer may still be needed for R, or as a holder of the chosen record
    }
    if (chosen == null) {
      if (read.failed(answer.replica()) == QuorumTracker.Outcome.FAILED) {
        reply(new QuorumNotReached(Phase.READ, read.successes(), read.required(), read.replicas()));
      }
    } else if (holders != null) { // null only under DeliberateBug.NO_READ_WRITE_BACK: replied at once
      repairing.remove(answer.replica());
      holders.failed(answer.replica());
      if (holders.outcome() == QuorumTracker.Outcome.FAILED) {
        reply(new QuorumNotReached(Phase.WRITE_BACK, holders.successes(), holders.required(), holders.replicas()));
      }
    }
  }

  private void writeBack(String replica) {
    Record record = chosen.orElseThrow(() -> new IllegalStateException(
        "nothing is older than absence, so an absent newest record needs no write-back"));
    repairing.add(replica);
    targets.stream()
        .filter(target -> target.name().equals(replica))
        .forEach(target -> target.send(new Apply(key, record, stamp(), answers, Cause.REPAIR)));
  }

  private void replyIfHeld() {
    if (holders.outcome() == QuorumTracker.Outcome.REACHED) {
      reply(chosen.filter(record -> !record.isTombstone())
          .<Result>map(record -> new Found(key, record))
          .orElse(new NotFound(key)));
    }
  }

  private boolean holdsChosenOrNewer(Optional<Record> record) {
    return holdsChosenOrNewer(Record.versionOf(record), Record.digestOf(record));
  }

  private boolean holdsChosenOrNewer(Version version, long digest) {
    int order = version.compareTo(Record.versionOf(chosen));
    if (order == 0 && digest != Record.digestOf(chosen)) {
      stats.digestConflict(key, version, "read agreement");
      return false;
    }
    return order >= 0;
  }

  /**
   * The answer with the highest version. Of two at one version with different digests (an
   * alarm, see {@link ReplicaStats#digestConflict}), the higher digest wins so every
   * coordinator picks the same one.
   */
  private Optional<Record> newest(Iterable<Optional<Record>> candidates) {
    Optional<Record> newest = Optional.empty();
    for (Optional<Record> candidate : candidates) {
      int order = Record.versionOf(candidate).compareTo(Record.versionOf(newest));
      if (order > 0 || (order == 0 && Record.digestOf(candidate) > Record.digestOf(newest))) {
        newest = candidate;
      }
    }
    return newest;
  }

  private Behavior<Command> onDeadline() {
    if (chosen == null) {
      reply(new QuorumNotReached(Phase.READ, read.successes(), read.required(), read.replicas()));
    } else {
      reply(new QuorumNotReached(Phase.WRITE_BACK, holders.successes(), holders.required(), holders.replicas()));
    }
    return Behaviors.stopped();
  }

  private void reply(Result result) {
    if (!replied) {
      replied = true;
      replyTo.tell(result);
    }
  }

  /** Replied, every replica asked answered, and no write-back is outstanding. */
  private boolean done() {
    Set<String> answered = new HashSet<>(held.keySet());
    answered.addAll(unreachable);
    return replied && answered.containsAll(asked) && repairing.isEmpty();
  }

  private Stamp stamp() {
    return new Stamp(replicaId, clock.peek());
  }
}
