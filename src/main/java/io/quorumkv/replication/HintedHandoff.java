package io.quorumkv.replication;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import io.quorumkv.membership.PeerStatus;
import io.quorumkv.store.Hint;
import io.quorumkv.store.Incarnation;
import io.quorumkv.store.ReplicaHandle;
import io.quorumkv.store.ReplicaProtocol;
import io.quorumkv.store.ReplicaProtocol.Answer;
import io.quorumkv.store.ReplicaProtocol.Apply;
import io.quorumkv.store.ReplicaProtocol.Read;
import io.quorumkv.store.ReplicaProtocol.RecordHeld;
import io.quorumkv.store.ReplicaProtocol.Call;
import io.quorumkv.store.ReplicaProtocol.Reply;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.store.Storage;
import io.quorumkv.version.HybridLogicalClock;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * Hinted handoff (docs/design.md, "Convergence"). Coordinators report the peers that did not acknowledge
 * a write's Apply; this actor keeps one durable hint per (peer, key) and, while the peer
 * answers pings again, replays them: it reads the record this replica holds *now* (never the
 * superseded one of the original write), applies it on the peer, and drops the hint once the
 * peer holds it. Replay is rate-limited per tick; hints expire; a peer's hints are bounded in
 * count and bytes, and hints over the bound are dropped and counted — anti-entropy repairs
 * whatever hints miss. Which hints are kept, refreshed, expired and let go is {@link HintBook},
 * pure code; this actor keeps the timers, the pace and the messages. Runs on the storage
 * dispatcher: hint storage calls block.
 */
public final class HintedHandoff extends AbstractBehavior<HintedHandoff.Command> {

  public sealed interface Command {}

  /** The write of {@code key} was not acknowledged by {@code targets} (peer names). */
  public record RecordHints(String key, List<String> targets) implements Command {}

  private enum Tick implements Command { INSTANCE }

  /** False while the clock fence holds (docs/clock-discipline.md, rule 3). */
  private final BooleanSupplier clockTrusted;

  /** @param readAt the stamp taken before the hint's record was read: its copy carries it */
  private record ReplayStepped(Hint hint, Answer answer, Stamp readAt) implements Command {}

  /** The peer answered the replayed Apply of {@code sent}. */
  private record ReplayApplied(Hint hint, io.quorumkv.version.Version sent, Answer answer) implements Command {}

  /** Bounds and pace. */
  public record Limits(
      Duration expiry, int countMaxPerTarget, long bytesMaxPerTarget, Duration replayInterval,
      int replayPerTick, int inFlightMax, Duration stepTimeout) {}

  /** A peer as hints reach it. */
  public record Peer(ReplicaHandle handle, PeerStatus status, HintStatus hintStatus) {}

  private final ReplicaHandle local;
  private final Map<String, Peer> peers = new HashMap<>();
  private final HybridLogicalClock clock;
  private final long replicaId;
  private final Limits limits;
  private final Incarnation incarnation;
  private final Set<Hint> replaying = new HashSet<>();
  /** Replays each peer may still start in the current tick. */
  private final Map<String, Integer> allowance = new HashMap<>();
  /** The stored hints and their rules: bounds, refreshing, expiry, when one may go. */
  private final HintBook book;

  public static Behavior<Command> create(
      Storage storage, ReplicaHandle local, List<Peer> peers, HybridLogicalClock clock, long replicaId,
      Limits limits, LongSupplier nowMillis, Incarnation incarnation, BooleanSupplier clockTrusted) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new HintedHandoff(ctx, timers, storage, local, peers, clock, replicaId, limits, nowMillis, incarnation,
            clockTrusted)));
  }

  private HintedHandoff(
      ActorContext<Command> ctx, TimerScheduler<Command> timers, Storage storage, ReplicaHandle local,
      List<Peer> peers, HybridLogicalClock clock, long replicaId, Limits limits, LongSupplier nowMillis,
      Incarnation incarnation, BooleanSupplier clockTrusted) {
    super(ctx);
    this.clockTrusted = clockTrusted;
    this.incarnation = incarnation;
    this.local = local;
    this.clock = clock;
    this.replicaId = replicaId;
    this.limits = limits;
    Map<String, HintStatus> statuses = new HashMap<>();
    for (Peer peer : peers) {
      this.peers.put(peer.handle().name(), peer);
      statuses.put(peer.handle().name(), peer.hintStatus());
    }
    this.book = new HintBook(storage, statuses,
        new HintBook.Bounds(limits.expiry(), limits.countMaxPerTarget(), limits.bytesMaxPerTarget()), nowMillis);
    timers.startTimerWithFixedDelay(Tick.INSTANCE, limits.replayInterval());
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(RecordHints.class, this::onRecordHints)
        .onMessageEquals(Tick.INSTANCE, this::onTick)
        .onMessage(ReplayStepped.class, this::onReplayStepped)
        .onMessage(ReplayApplied.class, this::onReplayApplied)
        .build();
  }

  private Behavior<Command> onRecordHints(RecordHints record) {
    book.record(record.key(), record.targets());
    return this;
  }

  private Behavior<Command> onTick() {
    if (!clockTrusted.getAsBoolean()) {
      return this; // fenced: nothing stamped with this replica's clock goes out
    }
    for (Peer peer : peers.values()) {
      allowance.put(peer.handle().name(), limits.replayPerTick());
      pump(peer);
    }
    return this;
  }

  /**
   * Starts replays for {@code peer} while it answers pings, fewer than in-flight-max are
   * running, and this tick's allowance lasts.
   */
  private void pump(Peer peer) {
    String target = peer.handle().name();
    if (!book.hasHints(target) || !peer.status().snapshot().reachable() || !incarnation.isReady()) {
      return;
    }
    int running = inFlightFor(target);
    int budget = Math.min(allowance.getOrDefault(target, 0), limits.inFlightMax() - running);
    if (budget <= 0) {
      return;
    }
    for (Hint hint : book.stored(target, budget + running)) {
      if (budget <= 0) {
        break;
      }
      if (replaying.contains(hint)) {
        continue;
      }
      if (book.expireIfDue(hint)) {
        continue;
      }
      replaying.add(hint);
      budget--;
      allowance.merge(target, -1, Integer::sum);
      Stamp readAt = stamp();
      getContext().ask(Reply.class, local.ref(), limits.stepTimeout(),
          replyTo -> new Call(new Read(hint.key(), readAt, ReplicaProtocol.Cause.HINT), 0, replyTo),
          (reply, failure) -> new ReplayStepped(hint, reply == null ? null : reply.answer(), readAt));
    }
  }

  private int inFlightFor(String target) {
    int running = 0;
    for (Hint hint : replaying) {
      if (hint.target().equals(target)) {
        running++;
      }
    }
    return running;
  }

  private Behavior<Command> onReplayStepped(ReplayStepped step) {
    Hint hint = step.hint();
    Peer peer = peers.get(hint.target());
    if (step.answer() instanceof RecordHeld held) {
      if (held.record().isEmpty()) {
        book.nothingToHandOff(hint);
        replaying.remove(hint);
        return this;
      }
      io.quorumkv.store.Record record = held.record().get();
      getContext().ask(Reply.class, peer.handle().ref(), limits.stepTimeout(),
          // Stamped before its record was read, never later (docs/design.md, "Message age").
          replyTo -> new Call(new Apply(hint.key(), record, step.readAt(), ReplicaProtocol.Cause.HINT), 0, replyTo),
          (reply, failure) -> new ReplayApplied(hint, record.version(), reply == null ? null : reply.answer()));
      return this;
    }
    replaying.remove(hint); // the local read failed: the next tick retries
    return this;
  }

  private Behavior<Command> onReplayApplied(ReplayApplied step) {
    Hint hint = step.hint();
    Peer peer = peers.get(hint.target());
    replaying.remove(hint);
    if (HintBook.holds(step.answer(), step.sent())) {
      book.delivered(hint);
      pump(peer);
    }
    return this;
  }

  private Stamp stamp() {
    return new Stamp(replicaId, clock.peek());
  }
}
