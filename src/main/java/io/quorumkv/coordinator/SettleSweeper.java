package io.quorumkv.coordinator;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import io.quorumkv.store.ReplicaHandle;
import io.quorumkv.store.ReplicaProtocol;
import io.quorumkv.store.ReplicaProtocol.CheckPaxos;
import io.quorumkv.store.ReplicaProtocol.ForgetPaxos;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.store.StoreActor;
import java.util.List;
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
 *
 * <p>Then it forgets Paxos state no longer needed: for each key whose promise and committed
 * ballot here are older than the tombstone grace, with no proposal, it asks every replica whether
 * it holds a proposal ({@link CheckPaxos}); only when all N say no does it tell them all to
 * forget ({@link ForgetPaxos}), each doing so only if its own state is still that old. A replica
 * that is down holds this back, as it holds back tombstones, until an operator retires it: a
 * retired peer is neither asked nor waited for.
 */
public final class SettleSweeper extends AbstractBehavior<SettleSweeper.Command> {

  public sealed interface Command {}

  private enum Tick implements Command { INSTANCE }

  private enum Next implements Command { INSTANCE }

  private record Listed(StoreActor.KeysToSettle keys) implements Command {}

  private record Ended(Coordinators.Done done) implements Command {}

  private record ListedToForget(StoreActor.KeysToForget keys) implements Command {}

  /** A replica answered whether it holds a proposal, in check {@code round}: answers of another check are ignored. */
  private record Checked(long round, String replica, boolean holds) implements Command {}

  private enum CheckTimedOut implements Command { INSTANCE }

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
  private final Deque<String> toForget = new ArrayDeque<>();
  private final List<ReplicaHandle> replicas;
  private final java.util.function.Predicate<String> retired;
  private final long replicaId;
  private final Duration checkTimeout;
  private boolean running;
  private String checking;
  private ForgetCheck check;
  /** The number of the current check: its calls carry it as their round, and its answers with them. */
  private long checkRound;
  private final java.util.Set<String> answered = new java.util.HashSet<>();
  /** One adapter for every check's answers (Akka keeps one per message class). */
  private ActorRef<ReplicaProtocol.Reply> checkAnswers;

  /** @param replicas all N replicas, the local one first */
  /** @param retired whether a peer (by name) is retired: permanently gone, neither asked nor waited for */
  public static Behavior<Command> create(ActorRef<StoreActor.Command> store, ActorRef<Coordinators.Command> coordinators,
      List<ReplicaHandle> replicas, java.util.function.Predicate<String> retired, HybridLogicalClock clock,
      long replicaId, Duration interval, Duration proposalAge, Duration checkTimeout, BooleanSupplier clockTrusted) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new SettleSweeper(ctx, timers, store, coordinators,
        replicas, retired, clock, replicaId, interval, proposalAge, checkTimeout, clockTrusted)));
  }

  private SettleSweeper(ActorContext<Command> ctx, TimerScheduler<Command> timers, ActorRef<StoreActor.Command> store,
      ActorRef<Coordinators.Command> coordinators, List<ReplicaHandle> replicas,
      java.util.function.Predicate<String> retired, HybridLogicalClock clock, long replicaId, Duration interval,
      Duration proposalAge, Duration checkTimeout, BooleanSupplier clockTrusted) {
    super(ctx);
    this.replicas = List.copyOf(replicas);
    this.retired = retired;
    this.replicaId = replicaId;
    this.checkTimeout = checkTimeout;
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
        .onMessage(ListedToForget.class, listed -> {
          toForget.addAll(listed.keys().keys());
          return checkNext();
        })
        .onMessage(Checked.class, this::onChecked)
        .onMessageEquals(CheckTimedOut.INSTANCE, () -> checking == null ? this : checkNext())
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

  /** The next key after a random delay; then the keys to forget; then the end of this sweep. */
  private Behavior<Command> next() {
    if (queue.isEmpty()) {
      store.tell(new StoreActor.ListKeysToForget(PER_SWEEP_MAX,
          getContext().messageAdapter(StoreActor.KeysToForget.class, ListedToForget::new)));
      return this;
    }
    timers.startSingleTimer(Next.INSTANCE, Duration.ofMillis(random.nextLong(JITTER_MAX.toMillis() + 1)));
    return this;
  }

  /** Asks every replica about the next key to forget, or ends the sweep. */
  private Behavior<Command> checkNext() {
    timers.cancel(CheckTimedOut.INSTANCE);
    checking = toForget.poll();
    if (checking == null || !clockTrusted.getAsBoolean()) {
      toForget.clear();
      checking = null;
      running = false;
      return this;
    }
    List<ReplicaHandle> asked = replicas.stream().filter(replica -> !retired.test(replica.name())).toList();
    check = new ForgetCheck(asked.size());
    checkRound++;
    answered.clear();
    if (checkAnswers == null) {
      checkAnswers = getContext().messageAdapter(ReplicaProtocol.Reply.class, reply -> new Checked(reply.round(),
          reply.replica(), !(reply.answer() instanceof ReplicaProtocol.PaxosHeld held) || held.holds()));
    }
    Stamp stamp = new Stamp(replicaId, clock.peek());
    asked.forEach(replica -> replica.send(new ReplicaProtocol.Call(new CheckPaxos(checking, stamp), checkRound,
        checkAnswers)));
    timers.startSingleTimer(CheckTimedOut.INSTANCE, checkTimeout);
    return this;
  }

  private Behavior<Command> onChecked(Checked checked) {
    if (checking == null || checked.round() != checkRound || !answered.add(checked.replica())) {
      return this;
    }
    ForgetCheck.Decision decision = check.answered(checked.holds());
    if (decision == ForgetCheck.Decision.WAITING) {
      return this;
    }
    if (decision == ForgetCheck.Decision.FORGET) {
      Stamp stamp = new Stamp(replicaId, clock.peek());
      ActorRef<ReplicaProtocol.Reply> ignored = getContext().getSystem().ignoreRef();
      replicas.forEach(replica -> replica.send(new ReplicaProtocol.Call(new ForgetPaxos(checking, stamp), 0, ignored)));
    }
    return checkNext();
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
