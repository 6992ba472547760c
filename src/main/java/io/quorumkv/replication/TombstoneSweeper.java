package io.quorumkv.replication;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import io.quorumkv.membership.RetiredPeers;
import io.quorumkv.replication.InternalWire.TombstoneCall;
import io.quorumkv.replication.InternalWire.TombstoneReply;
import io.quorumkv.store.StoreActor;
import io.quorumkv.version.HybridLogicalClock;
import java.io.IOException;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/**
 * Settles tombstones (DESIGN.md section 8). Every {@code interval} it takes the tombstones this
 * replica holds that are not settled yet and, one at a time, asks every replica whether it
 * durably holds that very tombstone in its current incarnation (a replica that is not ready
 * says no). Only when all N say yes does it tell all of them that the tombstone is settled —
 * never on a timer alone, never because a replica "holds nothing". A replica that never
 * answers (down, cut off) therefore blocks settlement, and so purging, of what it may miss,
 * until an operator retires it ({@link RetiredPeers}).
 */
public final class TombstoneSweeper extends AbstractBehavior<TombstoneSweeper.Command> {

  public sealed interface Command {}

  private enum Tick implements Command { INSTANCE }

  private record Listed(List<StoreActor.Entry> tombstones) implements Command {}

  private record LocalAnswered(boolean holds) implements Command {}

  private record PeerAnswered(boolean holds) implements Command {}

  private final ActorRef<StoreActor.Command> store;
  private final List<PeerClient> peers;
  private final RetiredPeers retired;
  private List<PeerClient> asked = List.of();
  private final HybridLogicalClock clock;
  private final long replicaId;
  private final int perSweepMax;
  private final Duration minimumAge;
  /** False while the clock fence holds: a fenced replica sends nothing stamped with its clock. */
  private final BooleanSupplier clockTrusted;
  private final Deque<StoreActor.Entry> queue = new ArrayDeque<>();
  private StoreActor.Entry checking;
  private int answers;
  private boolean allHold;

  public static Behavior<Command> create(
      ActorRef<StoreActor.Command> store, List<PeerClient> peers, RetiredPeers retired, HybridLogicalClock clock,
      long replicaId, Duration interval, int perSweepMax, BooleanSupplier clockTrusted) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new TombstoneSweeper(ctx, timers, store, peers, retired, clock, replicaId, interval, perSweepMax, clockTrusted)));
  }

  private TombstoneSweeper(
      ActorContext<Command> ctx, TimerScheduler<Command> timers, ActorRef<StoreActor.Command> store,
      List<PeerClient> peers, RetiredPeers retired, HybridLogicalClock clock, long replicaId, Duration interval,
      int perSweepMax, BooleanSupplier clockTrusted) {
    super(ctx);
    this.clockTrusted = clockTrusted;
    this.store = store;
    this.peers = peers;
    this.retired = retired;
    this.clock = clock;
    this.replicaId = replicaId;
    this.perSweepMax = perSweepMax;
    this.minimumAge = interval; // give the delete's own replication a moment before asking
    timers.startTimerWithFixedDelay(Tick.INSTANCE, interval);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessageEquals(Tick.INSTANCE, this::onTick)
        .onMessage(Listed.class, this::onListed)
        .onMessage(LocalAnswered.class, answer -> onAnswer(answer.holds()))
        .onMessage(PeerAnswered.class, answer -> onAnswer(answer.holds()))
        .build();
  }

  private Behavior<Command> onTick() {
    if (checking == null && queue.isEmpty() && clockTrusted.getAsBoolean()) {
      long olderThan = clock.peek() - HybridLogicalClock.fromMillis(minimumAge.toMillis());
      store.tell(new StoreActor.ListUnsettledTombstones(perSweepMax, olderThan,
          getContext().messageAdapter(StoreActor.UnsettledTombstones.class, listed -> new Listed(listed.tombstones()))));
    }
    return this;
  }

  private Behavior<Command> onListed(Listed listed) {
    queue.addAll(listed.tombstones());
    return checkNext();
  }

  private Behavior<Command> checkNext() {
    checking = queue.poll();
    if (checking == null) {
      return this;
    }
    answers = 0;
    allHold = true;
    asked = peers.stream().filter(peer -> !retired.isRetired(peer.peer().name())).toList();
    StoreActor.Entry tombstone = checking;
    store.tell(new StoreActor.CheckTombstone(tombstone.key(), tombstone.version(),
        getContext().messageAdapter(StoreActor.TombstoneHeld.class, held -> new LocalAnswered(held.holds()))));
    byte[] call = InternalWire.encode(new TombstoneCall(tombstone.key(), tombstone.version().hlc(),
        tombstone.version().replicaId(), replicaId, clock.peek()));
    for (PeerClient peer : asked) {
      getContext().pipeToSelf(peer.call(InternalWire.TOMBSTONE_PATH, call).thenApply(TombstoneSweeper::decode),
          (reply, failure) -> new PeerAnswered(failure == null && reply.holds()));
    }
    return this;
  }

  private Behavior<Command> onAnswer(boolean holds) {
    if (checking == null) {
      return this;
    }
    answers++;
    allHold &= holds;
    if (answers < asked.size() + 1) {
      return this;
    }
    if (allHold) {
      settle(checking);
    }
    return checkNext();
  }

  private void settle(StoreActor.Entry tombstone) {
    store.tell(new StoreActor.SettleTombstone(tombstone.key(), tombstone.version()));
    byte[] call = InternalWire.encode(new TombstoneCall(tombstone.key(), tombstone.version().hlc(),
        tombstone.version().replicaId(), replicaId, clock.peek()));
    for (PeerClient peer : peers) {
      peer.call(InternalWire.SETTLE_PATH, call); // best effort: a peer that misses it settles on its own sweep
    }
  }

  private static TombstoneReply decode(byte[] bytes) {
    try {
      return InternalWire.decode(bytes, TombstoneReply.class);
    } catch (IOException e) {
      throw new IllegalStateException("malformed answer: " + e.getMessage(), e);
    }
  }
}
