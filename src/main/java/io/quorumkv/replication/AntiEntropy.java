package io.quorumkv.replication;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import io.quorumkv.transport.PeerClient;
import io.quorumkv.store.ReplicaHandle;
import io.quorumkv.store.Incarnation;
import io.quorumkv.store.ReplicaProtocol;
import io.quorumkv.store.StoreActor;
import io.quorumkv.version.HybridLogicalClock;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Schedules anti-entropy: every {@code interval} one {@link AntiEntropySession} with the next
 * peer in turn, never two at once, so the background traffic stays bounded whatever the
 * number of differences. Each round's result goes to that peer's {@link AntiEntropyStatus}.
 */
public final class AntiEntropy extends AbstractBehavior<AntiEntropy.Command> {

  private static final Logger log = LoggerFactory.getLogger(AntiEntropy.class);
  private static final Duration REBUILD_TICK = Duration.ofSeconds(1);

  public sealed interface Command {}

  private enum Tick implements Command { INSTANCE }

  /** False while the clock fence holds (docs/clock-discipline.md, rule 3). */
  private final BooleanSupplier clockTrusted;

  private record RoundEnded(AntiEntropyStatus.Round round) implements Command {}

  /** A peer answered whether it holds proposals from before the rebuild. */
  private record ProposalsChecked(long check, String peer, boolean holds) implements Command {}

  /** A session stopped; if it did so without reporting (it failed), its round failed. */
  private record SessionStopped(ActorRef<AntiEntropySession.Command> session) implements Command {}

  /** A peer as anti-entropy reaches it: through the protocol and through its internal calls. */
  public record Peer(ReplicaHandle handle, PeerClient client, AntiEntropyStatus status) {}

  private final ActorRef<StoreActor.Command> store;
  private final ReplicaHandle local;
  private final List<Peer> peers;
  private final HybridLogicalClock clock;
  private final long replicaId;
  private final AntiEntropySession.Limits limits;
  private final Incarnation incarnation;
  private final Duration interval;
  private final Duration rebuildWait;
  private final Duration maxClockOffset;
  /** The peers that said they hold no proposal from before the rebuild, in check {@link #check}. */
  private final java.util.Set<String> clearOfOldProposals = new java.util.HashSet<>();
  private long check;
  /** One adapter for every check's answers (Akka keeps one per message class): the round is the check. */
  private ActorRef<ReplicaProtocol.Reply> proposalAnswers;
  private int next;
  private Peer running;
  private ActorRef<AntiEntropySession.Command> session;
  private boolean runningPullOnly;
  private long lastStartedNanos;

  public static Behavior<Command> create(
      ActorRef<StoreActor.Command> store, ReplicaHandle local, List<Peer> peers, HybridLogicalClock clock,
      long replicaId, Duration interval, AntiEntropySession.Limits limits, Incarnation incarnation,
      BooleanSupplier clockTrusted, Duration rebuildWait, Duration maxClockOffset) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new AntiEntropy(ctx, timers, store, local, peers, clock, replicaId, interval, limits, incarnation,
            clockTrusted, rebuildWait, maxClockOffset)));
  }

  /**
   * @param rebuildWait how long a rebuilding replica waits before its peers' proposals are checked
   *     (max-message-age plus the skew margin)
   */
  private AntiEntropy(
      ActorContext<Command> ctx, TimerScheduler<Command> timers, ActorRef<StoreActor.Command> store,
      ReplicaHandle local, List<Peer> peers, HybridLogicalClock clock, long replicaId, Duration interval,
      AntiEntropySession.Limits limits, Incarnation incarnation, BooleanSupplier clockTrusted, Duration rebuildWait,
      Duration maxClockOffset) {
    super(ctx);
    this.rebuildWait = rebuildWait;
    this.maxClockOffset = maxClockOffset;
    this.clockTrusted = clockTrusted;
    this.incarnation = incarnation;
    this.interval = interval;
    this.store = store;
    this.local = local;
    this.peers = peers;
    this.clock = clock;
    this.replicaId = replicaId;
    this.limits = limits;
    if (!peers.isEmpty()) {
      // Ticks at least every second: a replica that is not ready pulls at once and round after
      // round; a ready one starts a round only once per interval.
      timers.startTimerWithFixedDelay(Tick.INSTANCE, interval.compareTo(REBUILD_TICK) < 0 ? interval : REBUILD_TICK);
      this.lastStartedNanos = System.nanoTime();
    }
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessageEquals(Tick.INSTANCE, this::onTick)
        .onMessage(RoundEnded.class, this::onRoundEnded)
        .onMessage(ProposalsChecked.class, this::onProposalsChecked)
        .onMessage(SessionStopped.class, stopped -> {
          if (running != null && stopped.session().equals(session)) {
            return onRoundEnded(new RoundEnded(new AntiEntropyStatus.Round(
                java.time.Instant.now(), 0, 0, 0, false, "round failed unexpectedly")));
          }
          return this;
        })
        .build();
  }

  private Behavior<Command> onTick() {
    if (running != null) {
      return this; // the previous round is still going: skip rather than pile up
    }
    if (!clockTrusted.getAsBoolean()) {
      return this; // fenced: nothing stamped with this replica's clock goes out
    }
    boolean ready = incarnation.isReady();
    if (ready && System.nanoTime() - lastStartedNanos < interval.toNanos()) {
      return this;
    }
    if (!ready && incarnation.state() == Incarnation.State.REBUILDING
        && incarnation.step() == Incarnation.Step.WAITING) {
      incarnation.proposalBound(rebuildWait, maxClockOffset).ifPresent(this::checkPeersProposals);
      return this; // no pulls while waiting: the final pull comes after
    }
    lastStartedNanos = System.nanoTime();
    running = peers.get(next);
    next = (next + 1) % peers.size();
    runningPullOnly = !ready; // a replica that is not ready pushes nothing
    session = getContext().spawnAnonymous(AntiEntropySession.create(store, local, running.handle(), running.client(),
        clock, replicaId, limits, runningPullOnly,
        getContext().messageAdapter(AntiEntropyStatus.Round.class, RoundEnded::new)));
    getContext().watchWith(session, new SessionStopped(session));
    return this;
  }

  /** Asks every peer whether it holds a proposal below the bound (one check at a time, each tick). */
  private void checkPeersProposals(long boundMillis) {
    check++;
    clearOfOldProposals.clear();
    if (proposalAnswers == null) {
      proposalAnswers = getContext().messageAdapter(ReplicaProtocol.Reply.class,
          reply -> new ProposalsChecked(reply.round(), reply.replica(),
              !(reply.answer() instanceof ReplicaProtocol.PaxosHeld held) || held.holds()));
    }
    ReplicaProtocol.Stamp stamp = new ReplicaProtocol.Stamp(replicaId, clock.peek());
    for (Peer peer : peers) {
      peer.handle().send(new ReplicaProtocol.Call(
          new ReplicaProtocol.HoldsProposalsBefore(HybridLogicalClock.fromMillis(boundMillis), stamp), check,
          proposalAnswers));
    }
  }

  private Behavior<Command> onProposalsChecked(ProposalsChecked checked) {
    if (checked.check() != check || checked.holds()) {
      return this; // an earlier check, or a peer still holds one: its sweeper settles it; asked again
    }
    clearOfOldProposals.add(checked.peer());
    if (clearOfOldProposals.size() == peers.size()) {
      log.info("Rebuilding: no peer holds a proposal from before the rebuild; a final pull from every peer next");
      incarnation.peersHoldNoOldProposal();
    }
    return this;
  }

  private Behavior<Command> onRoundEnded(RoundEnded ended) {
    AntiEntropyStatus.Round round = ended.round();
    running.status().completed(round);
    if (runningPullOnly && round.complete()) {
      incarnation.pulledEverythingFrom(running.handle().name());
    }
    if (round.error() != null) {
      log.debug("Anti-entropy with [{}] failed: {}", running.handle().name(), round.error());
    } else if (round.pulled() + round.pushed() > 0) {
      log.info("Anti-entropy with [{}]: {} buckets differed, pulled {}, pushed {}",
          running.handle().name(), round.differingBuckets(), round.pulled(), round.pushed());
    }
    running = null;
    session = null;
    return this;
  }
}
