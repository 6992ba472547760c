package io.quorumkv.replication;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import io.quorumkv.membership.RetiredPeers;
import io.quorumkv.store.ReplicaProtocol.Call;
import io.quorumkv.store.ReplicaProtocol.CheckTombstone;
import io.quorumkv.store.ReplicaProtocol.Entry;
import io.quorumkv.store.ReplicaProtocol.Reply;
import io.quorumkv.store.ReplicaProtocol.SettleTombstone;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.store.ReplicaProtocol.TombstoneHeld;
import io.quorumkv.store.StoreActor;
import io.quorumkv.transport.PeerClient;
import io.quorumkv.version.HybridLogicalClock;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/**
 * Settles tombstones (docs/design.md, "Convergence"). Every {@code interval} it takes the tombstones this
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

  private record Listed(List<Entry> tombstones) implements Command {}

  /** A replica answered whether it holds {@code tombstone}: answers about an earlier one are ignored. */
  private record Answered(Entry tombstone, boolean holds) implements Command {}

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
  private final Deque<Entry> queue = new ArrayDeque<>();
  private TombstoneSettlement checking;

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
        .onMessage(Answered.class, this::onAnswer)
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
    Entry tombstone = queue.poll();
    if (tombstone == null) {
      checking = null;
      return this;
    }
    asked = peers.stream().filter(peer -> !retired.isRetired(peer.peer().name())).toList();
    checking = new TombstoneSettlement(tombstone, asked.size() + 1);
    CheckTombstone check = new CheckTombstone(tombstone.key(), tombstone.version(), stamp());
    store.tell(new Call(check, 0, getContext().messageAdapter(Reply.class,
        reply -> new Answered(tombstone, reply.answer() instanceof TombstoneHeld held && held.holds()))));
    for (PeerClient peer : asked) {
      getContext().pipeToSelf(peer.call(check, TombstoneHeld.class),
          (held, failure) -> new Answered(tombstone, failure == null && held.holds()));
    }
    return this;
  }

  private Behavior<Command> onAnswer(Answered answer) {
    if (checking == null || !checking.tombstone().equals(answer.tombstone())) {
      return this; // a late answer about a tombstone checked before
    }
    TombstoneSettlement.Decision decision = checking.answered(answer.holds());
    if (decision == TombstoneSettlement.Decision.WAITING) {
      return this;
    }
    if (decision == TombstoneSettlement.Decision.SETTLE) {
      settle(checking.tombstone());
    }
    return checkNext();
  }

  private void settle(Entry tombstone) {
    SettleTombstone settle = new SettleTombstone(tombstone.key(), tombstone.version(), stamp());
    store.tell(new Call(settle, 0, getContext().getSystem().ignoreRef()));
    for (PeerClient peer : peers) {
      peer.call(settle); // best effort: a peer that misses it settles on its own sweep
    }
  }

  private Stamp stamp() {
    return new Stamp(replicaId, clock.peek());
  }
}
