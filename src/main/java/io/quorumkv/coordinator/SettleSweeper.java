package io.quorumkv.coordinator;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import io.quorumkv.store.StoreActor;
import io.quorumkv.version.HybridLogicalClock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;

/**
 * Settles, one key at a time, what this replica's store asks to have settled
 * (docs/conditional-writes.md, "Bounded state"): proposals it accepted longer than
 * {@code proposalAge} ago (their coordinator died, timed out or lost its commits), and keys whose
 * copies it fenced (a round it promised went on without it). Each settle starts after a random
 * delay, so the replicas holding one proposal do not duel over it; it runs through the
 * {@link Coordinators} as a {@link SettleCoordinator}, within their in-flight bound.
 */
public final class SettleSweeper extends AbstractBehavior<SettleSweeper.Command> {

  public sealed interface Command {}

  private enum Tick implements Command { INSTANCE }

  private enum Next implements Command { INSTANCE }

  private record Listed(StoreActor.KeysToSettle keys) implements Command {}

  private record Ended(Coordinators.Done done) implements Command {}

  /** Keys asked for per sweep. */
  static final int PER_SWEEP_MAX = 100;
  static final Duration JITTER_MAX = Duration.ofMillis(200);

  private final ActorRef<StoreActor.Command> store;
  private final ActorRef<Coordinators.Command> coordinators;
  private final HybridLogicalClock clock;
  private final Duration proposalAge;
  private final BooleanSupplier clockTrusted;
  private final TimerScheduler<Command> timers;
  private final SplittableRandom random = new SplittableRandom();
  private final Deque<String> queue = new ArrayDeque<>();
  private boolean running;

  public static Behavior<Command> create(ActorRef<StoreActor.Command> store, ActorRef<Coordinators.Command> coordinators,
      HybridLogicalClock clock, Duration interval, Duration proposalAge, BooleanSupplier clockTrusted) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new SettleSweeper(ctx, timers, store, coordinators, clock, interval, proposalAge, clockTrusted)));
  }

  private SettleSweeper(ActorContext<Command> ctx, TimerScheduler<Command> timers, ActorRef<StoreActor.Command> store,
      ActorRef<Coordinators.Command> coordinators, HybridLogicalClock clock, Duration interval, Duration proposalAge,
      BooleanSupplier clockTrusted) {
    super(ctx);
    this.timers = timers;
    this.store = store;
    this.coordinators = coordinators;
    this.clock = clock;
    this.proposalAge = proposalAge;
    this.clockTrusted = clockTrusted;
    timers.startTimerWithFixedDelay(Tick.INSTANCE, interval);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessageEquals(Tick.INSTANCE, this::onTick)
        .onMessage(Listed.class, listed -> {
          queue.addAll(listed.keys().keys());
          return next();
        })
        .onMessageEquals(Next.INSTANCE, this::settleNext)
        .onMessage(Ended.class, ended -> next())
        .build();
  }

  private Behavior<Command> onTick() {
    if (!running && queue.isEmpty() && clockTrusted.getAsBoolean()) {
      running = true;
      long olderThan = clock.peek() - HybridLogicalClock.fromMillis(proposalAge.toMillis());
      store.tell(new StoreActor.ListKeysToSettle(PER_SWEEP_MAX, olderThan,
          getContext().messageAdapter(StoreActor.KeysToSettle.class, Listed::new)));
    }
    return this;
  }

  /** The next key after a random delay, or the end of this sweep. */
  private Behavior<Command> next() {
    if (queue.isEmpty()) {
      running = false;
      return this;
    }
    timers.startSingleTimer(Next.INSTANCE, Duration.ofMillis(random.nextLong(JITTER_MAX.toMillis() + 1)));
    return this;
  }

  private Behavior<Command> settleNext() {
    String key = queue.poll();
    if (key == null || !clockTrusted.getAsBoolean()) {
      queue.clear();
      running = false;
      return this;
    }
    coordinators.tell(new Coordinators.Settle(key, getContext().messageAdapter(Coordinators.Done.class, Ended::new)));
    return this;
  }
}
