package io.quorumkv.membership;

import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import io.quorumkv.replication.FailureReasons;
import io.quorumkv.replication.InternalWire.PingReply;
import io.quorumkv.replication.InternalWire;
import io.quorumkv.replication.PeerClient;
import io.quorumkv.store.Incarnation;
import io.quorumkv.version.HybridLogicalClock;
import java.time.Duration;

/**
 * Pings one peer periodically, so {@code /cluster} shows whether it is reachable even while no
 * request goes to it, and so the clocks of idle replicas keep hearing from each other. At most
 * one ping is in flight.
 */
public final class PeerMonitor extends AbstractBehavior<PeerMonitor.Command> {

  public sealed interface Command {}

  private enum Tick implements Command { INSTANCE }

  private record PingCompleted(PingReply reply, Throwable failure) implements Command {}

  private final PeerClient client;
  private final PeerStatus status;
  private final HybridLogicalClock clock;
  private final long ownReplicaId;
  private final KnownPeerIds knownPeerIds;
  private final Incarnation incarnation;
  private boolean pinging;

  public static Behavior<Command> create(
      PeerClient client, PeerStatus status, HybridLogicalClock clock, long ownReplicaId, KnownPeerIds knownPeerIds,
      Incarnation incarnation, Duration interval) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new PeerMonitor(ctx, timers, client, status, clock, ownReplicaId, knownPeerIds, incarnation, interval)));
  }

  private PeerMonitor(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      PeerClient client,
      PeerStatus status,
      HybridLogicalClock clock,
      long ownReplicaId,
      KnownPeerIds knownPeerIds,
      Incarnation incarnation,
      Duration interval) {
    super(ctx);
    this.knownPeerIds = knownPeerIds;
    this.incarnation = incarnation;
    this.client = client;
    this.status = status;
    this.clock = clock;
    this.ownReplicaId = ownReplicaId;
    timers.startTimerWithFixedDelay(Tick.INSTANCE, interval);
    ctx.getSelf().tell(Tick.INSTANCE);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessageEquals(Tick.INSTANCE, this::onTick)
        .onMessage(PingCompleted.class, this::onPingCompleted)
        .build();
  }

  private Behavior<Command> onTick() {
    if (!pinging) {
      pinging = true;
      getContext().pipeToSelf(
          client.call(InternalWire.PING_PATH, new byte[0])
              .thenApply(bytes -> decode(bytes)),
          PingCompleted::new);
    }
    return this;
  }

  private Behavior<Command> onPingCompleted(PingCompleted completed) {
    pinging = false;
    if (completed.failure() != null) {
      status.failed(FailureReasons.describe(completed.failure()));
    } else if (completed.reply().replicaId() == ownReplicaId) {
      status.failed("answers with this replica's own replica id: two replicas share a data directory");
    } else {
      PingReply reply = completed.reply();
      clock.observe(reply.clock());
      knownPeerIds.seen(client.peer().name(), reply.replicaId());
      incarnation.heardFrom(client.peer().name(), reply.knownIds());
      status.answered(reply.replicaId());
    }
    return this;
  }

  private static PingReply decode(byte[] bytes) {
    try {
      return InternalWire.decode(bytes, PingReply.class);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("malformed ping answer: " + e.getMessage(), e);
    }
  }

}
