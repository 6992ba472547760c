package io.quorumkv.coordinator;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import io.quorumkv.store.ListPages;
import io.quorumkv.store.ReplicaHandle;
import io.quorumkv.store.ReplicaProtocol.Reply;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Serves one page of a listing and stops (docs/listing-watch-ttl.md, "Listing"): drives a
 * {@link ListRound} for the replicas' pages, then reads each key the merge could not take as it is
 * through the {@link Coordinators} (a quorum read, counted in their in-flight bound like any
 * other), then assembles the page ({@link ListPlan#assemble}).
 */
public final class ListCoordinator extends AbstractBehavior<ListCoordinator.Command> {

  public sealed interface Command {}

  private record ReplicaAnswered(Reply reply) implements Command {}

  private record PagesMerged(ListRound.Outcome outcome) implements Command {}

  private record KeyRead(String key, ReadResult result) implements Command {}

  private enum DeadlinePassed implements Command { INSTANCE }

  private enum HedgeDelayPassed implements Command { INSTANCE }

  /** Beyond a key read's own deadline: its answer is overdue, it counts as failed. */
  private static final Duration READ_MARGIN = Duration.ofSeconds(1);

  private final ListRound round;
  private final RoundDriver<ListRound.Outcome> driver;
  private final ActorRef<Coordinators.Command> coordinators;
  private final Consistency consistency;
  private final Duration readTimeout;
  private final boolean values;
  private final ActorRef<ListResult> replyTo;
  private final int replicaCount;
  private final String start;
  private ListPlan.Merged merged;
  private final Map<String, ReadResult> reads = new HashMap<>();
  private int readsLeft;

  /** @param replicas all N replicas, the local one first */
  public static Behavior<Command> create(String prefix, String start, int limit, boolean values,
      Consistency consistency, List<ReplicaHandle> replicas, Coordinators.Settings settings,
      ActorRef<Coordinators.Command> coordinators, ActorRef<ListResult> replyTo) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new ListCoordinator(ctx, timers, prefix, start,
        limit, values, consistency, replicas, settings, coordinators, replyTo)));
  }

  private ListCoordinator(ActorContext<Command> ctx, TimerScheduler<Command> timers, String prefix, String start,
      int limit, boolean values, Consistency consistency, List<ReplicaHandle> replicas,
      Coordinators.Settings settings, ActorRef<Coordinators.Command> coordinators, ActorRef<ListResult> replyTo) {
    super(ctx);
    this.coordinators = coordinators;
    this.consistency = consistency;
    this.readTimeout = settings.readTimeout();
    this.values = values;
    this.replyTo = replyTo;
    this.replicaCount = replicas.size();
    this.start = start;
    this.round = new ListRound(prefix, start, limit, values, consistency,
        replicas.stream().map(ReplicaHandle::name).toList(), settings.clock(), settings.replicaId(),
        settings.fanout());
    this.driver = new RoundDriver<>(replicas, ctx.messageAdapter(Reply.class, ReplicaAnswered::new),
        ctx.messageAdapter(ListRound.Outcome.class, PagesMerged::new), MissedWrites.NONE,
        delay -> timers.startSingleTimer(HedgeDelayPassed.INSTANCE, delay), delay -> { });
    timers.startSingleTimer(DeadlinePassed.INSTANCE, settings.readTimeout());
    driver.execute(round.step(new RoundEvent.Started()));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(ReplicaAnswered.class, answered -> page(RoundDriver.eventOf(answered.reply())))
        .onMessageEquals(HedgeDelayPassed.INSTANCE, () -> page(new RoundEvent.HedgeDelayPassed()))
        .onMessageEquals(DeadlinePassed.INSTANCE, () -> page(new RoundEvent.DeadlinePassed()))
        .onMessage(PagesMerged.class, this::onMerged)
        .onMessage(KeyRead.class, this::onKeyRead)
        .build();
  }

  private Behavior<Command> page(RoundEvent event) {
    driver.execute(round.step(event));
    return this;
  }

  private Behavior<Command> onMerged(PagesMerged pages) {
    if (pages.outcome() instanceof ListRound.Failed failed) {
      replyTo.tell(failed.reason());
      return Behaviors.stopped();
    }
    merged = ((ListRound.Merged) pages.outcome()).merged();
    for (ListPlan.Slot slot : merged.slots()) {
      if (slot instanceof ListPlan.NeedsRead needsRead) {
        readsLeft++;
        String key = needsRead.key();
        getContext().ask(ReadResult.class, coordinators, readTimeout.plus(READ_MARGIN),
            reply -> new Coordinators.Get(key, consistency, reply),
            (result, failure) -> new KeyRead(key, result)); // no answer in time: null, a failed read
      }
    }
    return readsLeft == 0 ? reply() : this;
  }

  private Behavior<Command> onKeyRead(KeyRead read) {
    if (read.result() instanceof ReadResult.Found found && !values) {
      // Only the version is listed: the value is let go now, not held until the page is done.
      reads.put(read.key(), new ReadResult.Found(found.key(),
          new io.quorumkv.store.Record(found.record().version(), io.quorumkv.store.Value.wrap(new byte[0]))));
    } else if (read.result() != null) {
      reads.put(read.key(), read.result());
    }
    return --readsLeft == 0 ? reply() : this;
  }

  private Behavior<Command> reply() {
    Optional<ListResult.Listed> page = ListPlan.assemble(merged, reads, values, ListPages.VALUE_BYTES_MAX, start);
    if (page.isPresent()) {
      replyTo.tell(page.get());
    } else {
      // The first key's read failed: no progress to report, so the listing fails as that read did.
      ReadResult first = reads.get(merged.slots().get(0).key());
      replyTo.tell(first instanceof ListResult failed ? failed
          : new QuorumNotReached(Phase.READ, 0, consistency.required(replicaCount), replicaCount));
    }
    return Behaviors.stopped();
  }
}
