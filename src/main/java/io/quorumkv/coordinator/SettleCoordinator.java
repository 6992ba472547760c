package io.quorumkv.coordinator;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import io.quorumkv.store.ReplicaHandle;
import io.quorumkv.store.ReplicaProtocol.Cause;
import io.quorumkv.store.ReplicaProtocol.Reply;
import java.util.List;

/**
 * Settles one key and stops: the actor around a {@link PaxosRound} whose goal is the state as
 * found, for the proposal sweeper (a proposal left behind by a coordinator that died or timed out)
 * and for keys whose copies a replica fenced (docs/conditional-writes.md, "Bounded state").
 * Nobody waits for its outcome: {@code done} only hears that it ended.
 */
public final class SettleCoordinator extends AbstractBehavior<SettleCoordinator.Command> {

  public sealed interface Command {}

  /** A replica replied (adapted from {@link Reply}). */
  public record ReplicaAnswered(Reply reply) implements Command {}

  private enum DeadlinePassed implements Command { INSTANCE }

  private enum BackoffPassed implements Command { INSTANCE }

  private final PaxosRound round;
  private final RoundDriver<PaxosRound.Outcome> driver;
  private final String key;
  private final ActorRef<Coordinators.Done> done;

  /** @param replicas all N replicas of the key, the local one first */
  public static Behavior<Command> create(
      String key, List<ReplicaHandle> replicas, Coordinators.Settings settings, ActorRef<Coordinators.Done> done) {
    return Behaviors.<Command>setup(ctx -> Behaviors.withTimers(timers -> {
      SettleCoordinator coordinator = new SettleCoordinator(ctx, timers, key, replicas, settings, done);
      return coordinator.stepped();
    }));
  }

  private SettleCoordinator(
      ActorContext<Command> ctx, TimerScheduler<Command> timers, String key, List<ReplicaHandle> replicas,
      Coordinators.Settings settings, ActorRef<Coordinators.Done> done) {
    super(ctx);
    this.key = key;
    this.done = done;
    this.round = new PaxosRound(key, new PaxosRound.Settle(), Consistency.QUORUM,
        replicas.stream().map(ReplicaHandle::name).toList(), settings.clock(), settings.replicaId(),
        new java.util.SplittableRandom(), Cause.SETTLE);
    this.driver = new RoundDriver<>(replicas, ctx.messageAdapter(Reply.class, ReplicaAnswered::new),
        ctx.getSystem().ignoreRef(),
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
    if (round.finished()) {
      done.tell(new Coordinators.Done(key));
      return Behaviors.stopped();
    }
    return this;
  }
}
