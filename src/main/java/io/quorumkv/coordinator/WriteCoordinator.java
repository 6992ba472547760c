package io.quorumkv.coordinator;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import io.quorumkv.faults.DeliberateBug;
import io.quorumkv.store.ReplicaHandle;
import io.quorumkv.store.ReplicaProtocol.Reply;
import java.util.List;

/**
 * Serves one write (PUT or DELETE) and stops: the actor around a {@link WriteRound}, which holds
 * the algorithm. This shell keeps the timers (the request's deadline, the hedge delay), turns
 * replica replies into round events and carries out the round's effects.
 */
public final class WriteCoordinator extends AbstractBehavior<WriteCoordinator.Command> {

  public sealed interface Command {}

  /** A replica replied (adapted from {@link Reply}). */
  public record ReplicaAnswered(Reply reply) implements Command {}

  private enum DeadlinePassed implements Command { INSTANCE }

  private enum HedgeDelayPassed implements Command { INSTANCE }

  private enum BackoffPassed implements Command { INSTANCE }

  private final WriteRound round;
  private final RoundDriver<WriteResult> driver;

  /** @param replicas all N replicas of the key, the local one first */
  public static Behavior<Command> create(
      WriteRound.Write write, Consistency consistency, List<ReplicaHandle> replicas, Coordinators.Settings settings,
      ActorRef<WriteResult> replyTo) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      WriteCoordinator coordinator = new WriteCoordinator(ctx, timers, write, consistency, replicas, settings, replyTo);
      return coordinator.round.finished() ? Behaviors.stopped() : coordinator;
    }));
  }

  private WriteCoordinator(
      ActorContext<Command> ctx, TimerScheduler<Command> timers, WriteRound.Write write, Consistency consistency,
      List<ReplicaHandle> replicas, Coordinators.Settings settings, ActorRef<WriteResult> replyTo) {
    super(ctx);
    this.round = new WriteRound(write, consistency, replicas.stream().map(ReplicaHandle::name).toList(),
        settings.clock(), settings.replicaId(), settings.stats(), settings.fanout(),
        settings.bugs().contains(DeliberateBug.ONE_ROUND_WRITES), new java.util.SplittableRandom());
    this.driver = new RoundDriver<>(replicas, ctx.messageAdapter(Reply.class, ReplicaAnswered::new), replyTo,
        settings.missedWrites(), delay -> timers.startSingleTimer(HedgeDelayPassed.INSTANCE, delay),
        delay -> timers.startSingleTimer(BackoffPassed.INSTANCE, delay));
    timers.startSingleTimer(DeadlinePassed.INSTANCE, settings.writeTimeout());
    driver.execute(round.step(new RoundEvent.Started()));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(ReplicaAnswered.class, answered -> step(RoundDriver.eventOf(answered.reply())))
        .onMessageEquals(DeadlinePassed.INSTANCE, () -> step(new RoundEvent.DeadlinePassed()))
        .onMessageEquals(HedgeDelayPassed.INSTANCE, () -> step(new RoundEvent.HedgeDelayPassed()))
        .onMessageEquals(BackoffPassed.INSTANCE, () -> step(new RoundEvent.BackoffPassed()))
        .build();
  }

  private Behavior<Command> step(RoundEvent event) {
    driver.execute(round.step(event));
    return round.finished() ? Behaviors.stopped() : this;
  }
}
