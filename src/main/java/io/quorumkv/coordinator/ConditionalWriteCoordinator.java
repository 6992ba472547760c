package io.quorumkv.coordinator;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import io.quorumkv.store.ReplicaHandle;
import io.quorumkv.store.ReplicaProtocol.Reply;
import io.quorumkv.store.Value;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Serves one conditional write and stops: the actor around a {@link ConditionalWriteRound}, which
 * holds the algorithm. This shell keeps the timers (the request's deadline, the backoff after a
 * preempted attempt), turns replica replies into round events and carries out the round's effects.
 */
public final class ConditionalWriteCoordinator extends AbstractBehavior<ConditionalWriteCoordinator.Command> {

  public sealed interface Command {}

  /** A replica replied (adapted from {@link Reply}). */
  public record ReplicaAnswered(Reply reply) implements Command {}

  private enum DeadlinePassed implements Command { INSTANCE }

  private enum BackoffPassed implements Command { INSTANCE }

  private final String key;
  private final ConditionalWriteRound round;
  private final RoundDriver<WriteResult> driver;
  private final ActorRef<Coordinators.Command> coordinators;
  private final io.quorumkv.store.ReplicaStats stats;

  /**
   * @param replicas all N replicas of the key, the local one first
   * @param fastWait try the fast round, waiting this long for every replica; null: classic only
   * @param coordinators told when a replica refused the fast round or missed it, so the next ones go classic
   */
  static Behavior<Command> create(
      String key, PaxosRound.Conditional write, Consistency consistency, List<ReplicaHandle> replicas,
      java.time.Duration fastWait, Coordinators.Settings settings, ActorRef<Coordinators.Command> coordinators,
      ActorRef<WriteResult> replyTo) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      ConditionalWriteCoordinator coordinator = new ConditionalWriteCoordinator(ctx, timers, key, write,
          consistency, replicas, fastWait, settings, coordinators, replyTo);
      return coordinator.stepped();
    }));
  }

  private ConditionalWriteCoordinator(
      ActorContext<Command> ctx, TimerScheduler<Command> timers, String key, PaxosRound.Conditional write,
      Consistency consistency, List<ReplicaHandle> replicas, java.time.Duration fastWait,
      Coordinators.Settings settings, ActorRef<Coordinators.Command> coordinators, ActorRef<WriteResult> replyTo) {
    super(ctx);
    this.key = key;
    this.coordinators = coordinators;
    this.stats = settings.stats();
    this.round = new ConditionalWriteRound(key, write, consistency,
        replicas.stream().map(ReplicaHandle::name).toList(), settings.clock(), settings.replicaId(),
        new java.util.SplittableRandom(), fastWait,
        settings.bugs().contains(io.quorumkv.faults.DeliberateBug.COMPARE_WITHOUT_CONSENSUS));
    this.driver = new RoundDriver<>(replicas, ctx.messageAdapter(Reply.class, ReplicaAnswered::new), replyTo,
        settings.missedWrites(), delay -> {}, delay -> timers.startSingleTimer(BackoffPassed.INSTANCE, delay));
    timers.startSingleTimer(DeadlinePassed.INSTANCE, settings.writeTimeout());
    driver.execute(round.step(new RoundEvent.Started()));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(ReplicaAnswered.class, answered -> step(RoundDriver.eventOf(answered.reply())))
        .onMessageEquals(DeadlinePassed.INSTANCE, () -> step(new RoundEvent.DeadlinePassed()))
        .onMessageEquals(BackoffPassed.INSTANCE, () -> step(new RoundEvent.BackoffPassed()))
        .build();
  }

  private Behavior<Command> step(RoundEvent event) {
    driver.execute(round.step(event));
    return stepped();
  }

  private Behavior<Command> stepped() {
    if (!round.finished()) {
      return this;
    }
    if (round.fastRefused() || !round.fastUnavailable().isEmpty()) {
      coordinators.tell(new Coordinators.FastRoundFailed(key, round.fastRefused(), Set.copyOf(round.fastUnavailable())));
    }
    switch (round.fastPath()) {
      case CHOSEN -> stats.fastRoundChosen();
      case FELL_BACK -> stats.fastRoundFellBack();
      default -> { }
    }
    return Behaviors.stopped();
  }
}
