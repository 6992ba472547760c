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

  private final ConditionalWriteRound round;
  private final RoundDriver<WriteResult> driver;

  /** @param replicas all N replicas of the key, the local one first */
  public static Behavior<Command> create(
      String key, Condition condition, Optional<Value> value, Consistency consistency, List<ReplicaHandle> replicas,
      Coordinators.Settings settings, ActorRef<WriteResult> replyTo) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      ConditionalWriteCoordinator coordinator = new ConditionalWriteCoordinator(ctx, timers, key, condition, value,
          consistency, replicas, settings, replyTo);
      return coordinator.round.finished() ? Behaviors.stopped() : coordinator;
    }));
  }

  private ConditionalWriteCoordinator(
      ActorContext<Command> ctx, TimerScheduler<Command> timers, String key, Condition condition,
      Optional<Value> value, Consistency consistency, List<ReplicaHandle> replicas, Coordinators.Settings settings,
      ActorRef<WriteResult> replyTo) {
    super(ctx);
    this.round = new ConditionalWriteRound(key, condition, value, consistency,
        replicas.stream().map(ReplicaHandle::name).toList(), settings.clock(), settings.replicaId(),
        new java.util.SplittableRandom(),
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
    return round.finished() ? Behaviors.stopped() : this;
  }
}
