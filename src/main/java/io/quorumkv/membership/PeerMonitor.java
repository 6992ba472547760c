package io.quorumkv.membership;

import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import io.quorumkv.store.Incarnation;
import io.quorumkv.store.ReplicaProtocol.Capabilities;
import io.quorumkv.store.ReplicaProtocol.CapabilitiesHeld;
import io.quorumkv.store.ReplicaProtocol.Ping;
import io.quorumkv.store.ReplicaProtocol.PingReply;
import io.quorumkv.store.ReplicaProtocol.TimeReply;
import io.quorumkv.transport.FailureReasons;
import io.quorumkv.transport.PeerClient;
import io.quorumkv.version.ClockFence;
import io.quorumkv.version.HybridLogicalClock;
import java.time.Duration;

/**
 * Pings one peer periodically, so {@code /cluster} shows whether it is reachable even while no
 * request goes to it, and so the clocks of idle replicas keep hearing from each other; and
 * measures the peer's wall clock for the {@link ClockFence}; and asks a peer that answers pings
 * under a replica id not asked yet what its build supports ({@link PeerCapabilities}). At most
 * one call of each kind is in flight.
 */
public final class PeerMonitor extends AbstractBehavior<PeerMonitor.Command> {

  public sealed interface Command {}

  private enum Tick implements Command { INSTANCE }

  private record PingCompleted(PingReply reply, Throwable failure) implements Command {}

  private record CapabilitiesCompleted(long replicaId, CapabilitiesHeld reply, Throwable failure) implements Command {}

  private record TimeCompleted(TimeReply reply, Throwable failure, long sentWallMillis, long sentNanos)
      implements Command {}

  private final PeerClient client;
  private final PeerStatus status;
  private final HybridLogicalClock clock;
  private final long ownReplicaId;
  private final KnownPeerIds knownPeerIds;
  private final Incarnation incarnation;
  private final ClockFence fence;
  private final Identity identity;
  private final PeerCapabilities capabilities;
  private boolean pinging;
  private boolean asking;
  /** The peer failed a ping since its capabilities were last asked: ask again once it answers. */
  private boolean askAgain = true;
  private boolean timing;

  public static Behavior<Command> create(
      PeerClient client, PeerStatus status, HybridLogicalClock clock, long ownReplicaId, KnownPeerIds knownPeerIds,
      Incarnation incarnation, ClockFence fence, Identity identity, PeerCapabilities capabilities, Duration interval) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new PeerMonitor(ctx, timers, client, status, clock, ownReplicaId, knownPeerIds, incarnation, fence, identity,
            capabilities, interval)));
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
      ClockFence fence,
      Identity identity,
      PeerCapabilities capabilities,
      Duration interval) {
    super(ctx);
    this.capabilities = capabilities;
    this.fence = fence;
    this.identity = identity;
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
        .onMessage(TimeCompleted.class, this::onTimeCompleted)
        .onMessage(CapabilitiesCompleted.class, this::onCapabilitiesCompleted)
        .build();
  }

  private Behavior<Command> onTick() {
    if (!pinging) {
      pinging = true;
      getContext().pipeToSelf(
          client.call(new Ping(), PingReply.class),
          PingCompleted::new);
    }
    if (!timing) {
      timing = true;
      long sentWallMillis = clock.wallMillis();
      long sentNanos = System.nanoTime();
      getContext().pipeToSelf(
          client.call(identity.callFor(client.peer().name()), TimeReply.class),
          (reply, failure) -> new TimeCompleted(reply, failure, sentWallMillis, sentNanos));
    }
    return this;
  }

  private Behavior<Command> onTimeCompleted(TimeCompleted completed) {
    timing = false;
    if (completed.failure() == null) {
      status.identityCheckAnswered();
    }
    if (completed.failure() != null || completed.reply().replicaId() == ownReplicaId) {
      fence.unmeasured(client.peer().name());
    } else {
      // The identity rules first: a replica whose state went backwards stops before the fence
      // counts this answer as the confirmation that lets it serve.
      if (!identity.answered(client.peer().name(), completed.reply())) {
        return this;
      }
      long roundTripMillis = (System.nanoTime() - completed.sentNanos()) / 1_000_000;
      fence.measured(client.peer().name(), completed.reply().wallMillis(), completed.sentWallMillis(), roundTripMillis);
    }
    return this;
  }

  private Behavior<Command> onPingCompleted(PingCompleted completed) {
    pinging = false;
    if (completed.failure() != null) {
      askAgain = true; // it may come back on another build
      status.failed(FailureReasons.describe(completed.failure()));
    } else if (completed.reply().replicaId() == ownReplicaId) {
      status.failed("answers with this replica's own replica id: two replicas share a data directory");
    } else if (fence.isOff(client.peer().name())) {
      // Its wall clock is measured beyond the fence: its readings must not spread here.
      status.failed("its wall clock is off from this replica's by more than the clock fence: not observed");
    } else if (!clock.admit(client.peer().name(), "ping answer", completed.reply().clock())) {
      status.failed("its clock reading is " + clock.aheadOfWallMillis(completed.reply().clock())
          + " ms ahead of this replica's wall clock, beyond max-clock-offset: refused");
    } else {
      PingReply reply = completed.reply();
      knownPeerIds.seen(client.peer().name(), reply.replicaId());
      incarnation.pingAnswered(client.peer().name(), reply.knownIds());
      status.answered(reply.replicaId());
      askCapabilities(reply.replicaId());
    }
    return this;
  }

  private void askCapabilities(long replicaId) {
    if (asking || !askAgain && !capabilities.needsAsking(client.peer().name(), replicaId)) {
      return;
    }
    asking = true;
    getContext().pipeToSelf(client.call(new Capabilities(), CapabilitiesHeld.class),
        (reply, failure) -> new CapabilitiesCompleted(replicaId, reply, failure));
  }

  /**
   * A definite answer replaces what was known: the capabilities, or a 400 (an older build, which
   * does not know the request: nothing new). Any other failure (a timeout, a 503) keeps what was
   * known, and the peer is asked again after its next ping.
   */
  private Behavior<Command> onCapabilitiesCompleted(CapabilitiesCompleted completed) {
    asking = false;
    Throwable failure = completed.failure() instanceof java.util.concurrent.CompletionException wrapped
        && wrapped.getCause() != null ? wrapped.getCause() : completed.failure();
    if (failure == null) {
      capabilities.answered(client.peer().name(), completed.replicaId(), completed.reply().capabilities());
      askAgain = false;
    } else if (failure instanceof PeerClient.PeerCallFailed refused && refused.status() == 400) {
      capabilities.answered(client.peer().name(), completed.replicaId(), java.util.List.of());
      askAgain = false;
    }
    return this;
  }

}
