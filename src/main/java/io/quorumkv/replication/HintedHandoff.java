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
import io.quorumkv.store.ReplicaProtocol.Applied;
import io.quorumkv.store.ReplicaProtocol.Apply;
import io.quorumkv.store.ReplicaProtocol.Read;
import io.quorumkv.store.ReplicaProtocol.RecordHeld;
import io.quorumkv.store.ReplicaProtocol.Call;
import io.quorumkv.store.ReplicaProtocol.Reply;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.store.Storage;
import io.quorumkv.version.HybridLogicalClock;
import java.nio.charset.StandardCharsets;
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
 * whatever hints miss. Runs on the storage dispatcher: hint storage calls block.
 */
public final class HintedHandoff extends AbstractBehavior<HintedHandoff.Command> {

  public sealed interface Command {}

  /** The write of {@code key} was not acknowledged by {@code targets} (peer names). */
  public record RecordHints(String key, List<String> targets) implements Command {}

  private enum Tick implements Command { INSTANCE }

  /** False while the clock fence holds (docs/clock-discipline.md, rule 3). */
  private final BooleanSupplier clockTrusted;

  private record ReplayStepped(Hint hint, Answer answer) implements Command {}

  /** The peer answered the replayed Apply of {@code sent}. */
  private record ReplayApplied(Hint hint, io.quorumkv.version.Version sent, Answer answer) implements Command {}

  /** Bounds and pace. */
  public record Limits(
      Duration expiry, int countMaxPerTarget, long bytesMaxPerTarget, Duration replayInterval,
      int replayPerTick, int inFlightMax, Duration stepTimeout) {}

  /** A peer as hints reach it. */
  public record Peer(ReplicaHandle handle, PeerStatus status, HintStatus hintStatus) {}

  private final Storage storage;
  private final ReplicaHandle local;
  private final Map<String, Peer> peers = new HashMap<>();
  private final HybridLogicalClock clock;
  private final long replicaId;
  private final Limits limits;
  private final LongSupplier nowMillis;
  private final Incarnation incarnation;
  private final Set<Hint> replaying = new HashSet<>();
  /** Replays each peer may still start in the current tick. */
  private final Map<String, Integer> allowance = new HashMap<>();
  /** Per peer, the keys it has a stored hint for and the hint's time (bounded by countMaxPerTarget). */
  private final Map<String, Map<String, Long>> hinted = new HashMap<>();

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
    this.storage = storage;
    this.local = local;
    this.clock = clock;
    this.replicaId = replicaId;
    this.limits = limits;
    this.nowMillis = nowMillis;
    for (Peer peer : peers) {
      this.peers.put(peer.handle().name(), peer);
      this.hinted.put(peer.handle().name(), new HashMap<>());
    }
    for (Hint hint : storage.allHints()) { // count what survived the last run
      Peer peer = this.peers.get(hint.target());
      if (peer == null) {
        deleteIfRoom(hint); // a peer no longer configured (on a full disk: again at the next start)
      } else {
        hinted.get(hint.target()).put(hint.key(), hint.createdMillis());
        peer.hintStatus().stored(bytesOf(hint.key()), false);
      }
    }
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
    long bytes = bytesOf(record.key());
    for (String target : record.targets()) {
      Peer peer = peers.get(target);
      if (peer == null) {
        continue;
      }
      HintStatus status = peer.hintStatus();
      boolean known = hinted.get(target).containsKey(record.key());
      if (!known && (status.pending() >= limits.countMaxPerTarget()
          || status.pendingBytes() + bytes > limits.bytesMaxPerTarget())) {
        status.dropped();
        continue;
      }
      // A refreshed hint gets a later time than the one it replaces, so a replay of the old one
      // (see forget) can tell them apart.
      Long previous = hinted.get(target).get(record.key());
      long now = previous == null ? nowMillis.getAsLong() : Math.max(nowMillis.getAsLong(), previous + 1);
      try {
        storage.putHint(new Hint(target, record.key(), now));
      } catch (io.quorumkv.store.StorageFullException e) {
        status.dropped(); // the disk is full: anti-entropy brings the peer this write instead
        continue;
      }
      status.stored(bytes, hinted.get(target).put(record.key(), now) != null);
    }
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
    if (hinted.get(target).isEmpty() || !peer.status().snapshot().reachable() || !incarnation.isReady()) {
      return;
    }
    int running = inFlightFor(target);
    int budget = Math.min(allowance.getOrDefault(target, 0), limits.inFlightMax() - running);
    if (budget <= 0) {
      return;
    }
    for (Hint hint : storage.hints(target, budget + running)) {
      if (budget <= 0) {
        break;
      }
      if (replaying.contains(hint)) {
        continue;
      }
      if (nowMillis.getAsLong() - hint.createdMillis() > limits.expiry().toMillis()) {
        forget(peer, hint);
        peer.hintStatus().expired();
        continue;
      }
      replaying.add(hint);
      budget--;
      allowance.merge(target, -1, Integer::sum);
      getContext().ask(Reply.class, local.ref(), limits.stepTimeout(),
          replyTo -> new Call(new Read(hint.key(), stamp(), ReplicaProtocol.Cause.HINT), 0, replyTo),
          (reply, failure) -> new ReplayStepped(hint, reply == null ? null : reply.answer()));
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
        forget(peer, hint); // nothing here to hand off
        replaying.remove(hint);
        return this;
      }
      io.quorumkv.store.Record record = held.record().get();
      getContext().ask(Reply.class, peer.handle().ref(), limits.stepTimeout(),
          replyTo -> new Call(new Apply(hint.key(), record, stamp(), ReplicaProtocol.Cause.HINT), 0, replyTo),
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
    // Only a peer that now holds the replayed record (or newer) lets the hint go; one that
    // refused it (e.g. as too old) keeps it for the next tick.
    if (step.answer() instanceof Applied applied && applied.version().compareTo(step.sent()) >= 0) {
      forget(peer, hint);
      peer.hintStatus().replayed();
      pump(peer);
    }
    return this;
  }

  /**
   * Deletes the hint, unless a newer write refreshed it meanwhile: then the peer may still miss
   * that write, and the refreshed hint stays for the next tick.
   */
  private void forget(Peer peer, Hint hint) {
    Long created = hinted.get(hint.target()).get(hint.key());
    if (created == null || created != hint.createdMillis()) {
      return; // refreshed (or gone) meanwhile
    }
    try {
      storage.deleteHint(hint.target(), hint.key());
    } catch (io.quorumkv.store.StorageFullException e) {
      return; // the disk is full: the hint stays, stored and pending, and is replayed again later
    }
    hinted.get(hint.target()).remove(hint.key(), hint.createdMillis());
    peer.hintStatus().removed(bytesOf(hint.key()));
  }

  private void deleteIfRoom(Hint hint) {
    try {
      storage.deleteHint(hint.target(), hint.key());
    } catch (io.quorumkv.store.StorageFullException e) {
      // Left for later, see above.
    }
  }

  private static long bytesOf(String key) {
    return key.getBytes(StandardCharsets.UTF_8).length;
  }

  private Stamp stamp() {
    return new Stamp(replicaId, clock.peek());
  }
}
