package io.quorumkv.coordinator;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import io.quorumkv.config.Fanout;
import io.quorumkv.faults.DeliberateBug;
import io.quorumkv.store.ReplicaHandle;
import io.quorumkv.store.ReplicaStats;
import io.quorumkv.store.Value;
import io.quorumkv.version.ClockFence;
import io.quorumkv.version.HybridLogicalClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The entry point for client requests on one replica: spawns one anonymous
 * {@link WriteCoordinator} or {@link ReadCoordinator} per request, so the quorum state of each
 * request lives in its own actor, and caps the requests in flight (beyond the cap a request
 * is answered {@link Overloaded} at once instead of queueing without bound).
 */
public final class Coordinators extends AbstractBehavior<Coordinators.Command> {

  public sealed interface Command {}

  /** Write {@code value} under {@code key}, expiring {@code ttlMillis} after its version's time (0: never). */
  public record Put(String key, Value value, long ttlMillis, Consistency consistency, ActorRef<WriteResult> replyTo)
      implements Command {}

  /** Write a tombstone under {@code key}. */
  public record Delete(String key, Consistency consistency, ActorRef<WriteResult> replyTo)
      implements Command {}

  /**
   * Write {@code value} (empty: a tombstone; {@code ttlMillis} as for {@link Put}) under {@code key}
   * if {@code condition} holds on the key's committed state (docs/conditional-writes.md).
   */
  public record ConditionalWrite(String key, Optional<Value> value, long ttlMillis, Condition condition,
      Consistency consistency, ActorRef<WriteResult> replyTo) implements Command {}

  /**
   * Settle {@code key} through a Paxos round nobody waits for (the proposal sweeper, a fenced
   * copy); {@code done} hears when it ended, whatever the outcome.
   */
  public record Settle(String key, ActorRef<Done> done) implements Command {}

  /** A settle ended. */
  public record Done(String key) {}

  /**
   * A conditional write's fast accept of {@code key} was refused by a replica ({@code refused}),
   * or answered unavailable or too late by {@code unavailable}: the next ones on the key (or on
   * every key) go classic for a while.
   */
  record FastRoundFailed(String key, boolean refused, java.util.Set<String> unavailable) implements Command {}

  /** Read {@code key}. */
  public record Get(String key, Consistency consistency, ActorRef<ReadResult> replyTo)
      implements Command {}

  /**
   * List up to {@code limit} keys starting with {@code prefix}, from {@code start} on, with their
   * values if {@code values} (docs/listing-watch-ttl.md, "Listing").
   */
  public record ListKeys(String prefix, String start, int limit, boolean values, Consistency consistency,
      ActorRef<ListResult> replyTo) implements Command {}

  private record ListStopped() implements Command {}

  private record CoordinatorStopped() implements Command {}

  /** What every coordinator of this replica shares: passed whole to each coordinator. */
  public record Settings(
      List<ReplicaHandle> replicas,
      HybridLogicalClock clock,
      long replicaId,
      ReplicaStats stats,
      MissedWrites missedWrites, // MissedWrites.NONE when hinted handoff is off
      Duration writeTimeout,
      Duration readTimeout,
      int inFlightMax,
      Fanout fanout,
      ClockFence fence,
      java.util.function.Supplier<Optional<String>> writeRefusal, // why writes may not start now (identity)
      io.quorumkv.store.StorageAlarm storage, // whether this replica's storage takes writes now
      java.util.function.Predicate<String> reachable, // whether the pings find a peer up now
      boolean fastRound, // whether conditional writes try the fast round
      Set<DeliberateBug> bugs) {} // TEST ONLY: empty in any real cluster

  /** Listings running at once on this replica, at most (docs/listing-watch-ttl.md, "Bounds"). */
  static final int LISTS_IN_FLIGHT_MAX = 16;

  private final Settings settings;
  private final FastRoundGate fastRounds;
  private int inFlight;
  private int listsInFlight;
  private int turn; // which peer a quorum-first round asks first, in turn

  public static Behavior<Command> create(Settings settings) {
    return Behaviors.setup(ctx -> new Coordinators(ctx, settings));
  }

  private Coordinators(ActorContext<Command> ctx, Settings settings) {
    super(ctx);
    this.settings = settings;
    this.fastRounds = new FastRoundGate(!settings.fastRound() ? Duration.ZERO
        : settings.fanout().quorumFirst() ? settings.fanout().hedgeDelay() : FastRoundGate.WAIT_WITHOUT_HEDGE,
        settings.reachable());
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Put.class, put -> write(new WriteRound.Write(put.key(), Optional.of(put.value()), put.ttlMillis()),
            put.consistency(), put.replyTo()))
        .onMessage(Delete.class, delete -> write(new WriteRound.Write(delete.key(), Optional.empty()),
            delete.consistency(), delete.replyTo()))
        .onMessage(Get.class, this::onGet)
        .onMessage(ListKeys.class, this::onList)
        .onMessage(ListStopped.class, stopped -> {
          inFlight--;
          listsInFlight--;
          return this;
        })
        .onMessage(ConditionalWrite.class, this::onConditionalWrite)
        .onMessage(Settle.class, this::onSettle)
        .onMessage(FastRoundFailed.class, failed -> {
          long now = monotonicMillis();
          if (failed.refused()) {
            fastRounds.refused(failed.key(), now);
          }
          failed.unavailable().forEach(replica -> fastRounds.unavailable(replica, now));
          return this;
        })
        .onMessage(CoordinatorStopped.class, stopped -> {
          inFlight--;
          return this;
        })
        .build();
  }

  private Behavior<Command> write(WriteRound.Write write, Consistency consistency, ActorRef<WriteResult> replyTo) {
    if (refusedWrite(write.value(), replyTo)) {
      return this;
    }
    track(getContext().spawnAnonymous(WriteCoordinator.create(
        write, consistency, replicasInTurn(), settings, replyTo)));
    return this;
  }

  private Behavior<Command> onConditionalWrite(ConditionalWrite write) {
    if (refusedWrite(write.value(), write.replyTo())) {
      return this;
    }
    List<ReplicaHandle> replicas = replicasInTurn();
    Duration fastWait = fastRounds.fastWait(write.key(),
        replicas.subList(1, replicas.size()).stream().map(ReplicaHandle::name).toList(), monotonicMillis());
    track(getContext().spawnAnonymous(ConditionalWriteCoordinator.create(write.key(),
        new PaxosRound.Conditional(write.condition(), write.value(), write.ttlMillis()), write.consistency(), replicas, fastWait, settings, getContext().getSelf(), write.replyTo())));
    return this;
  }

  /** Settles run only while there is room for client requests: they are background work. */
  private Behavior<Command> onSettle(Settle settle) {
    if (settings.fence().reason().isPresent() || inFlight >= settings.inFlightMax() / 2) {
      settle.done().tell(new Done(settle.key()));
      return this;
    }
    track(getContext().spawnAnonymous(SettleCoordinator.create(settle.key(), replicasInTurn(), settings,
        settle.done())));
    return this;
  }

  /** Whether a write was refused before it started (answered here); see {@link #write}. */
  private boolean refusedWrite(Optional<Value> value, ActorRef<WriteResult> replyTo) {
    Optional<String> fenced = settings.fence().reason();
    if (fenced.isPresent()) {
      replyTo.tell(new NotStarted(fenced.get(), NotStarted.CLOCK));
      return true;
    }
    Optional<String> duplicated = settings.writeRefusal().get();
    if (duplicated.isPresent()) {
      replyTo.tell(new NotStarted(duplicated.get(), NotStarted.IDENTITY));
      return true;
    }
    // Refused here, where the answer is clear (not applied, try another replica), rather than
    // left to fail the apply round, whose outcome would be indeterminate.
    Optional<String> noRoom = settings.storage().refusal(value.isEmpty());
    if (noRoom.isPresent()) {
      replyTo.tell(new NotStarted(noRoom.get(), NotStarted.STORAGE));
      return true;
    }
    if (inFlight >= settings.inFlightMax()) {
      replyTo.tell(new Overloaded(inFlight, settings.inFlightMax()));
      return true;
    }
    return false;
  }

  private Behavior<Command> onGet(Get get) {
    Optional<String> fenced = settings.fence().reason();
    if (fenced.isPresent()) {
      get.replyTo().tell(new NotStarted(fenced.get(), NotStarted.CLOCK));
      return this;
    }
    if (inFlight >= settings.inFlightMax()) {
      get.replyTo().tell(new Overloaded(inFlight, settings.inFlightMax()));
      return this;
    }
    track(getContext().spawnAnonymous(ReadCoordinator.create(
        get.key(), get.consistency(), replicasInTurn(), settings, get.replyTo())));
    return this;
  }

  /**
   * A listing, within two bounds: half the in-flight bound of every request (each listing may run
   * up to {@link ListPlan#READS_PER_PAGE} reads besides, which count too: the other half stays
   * for single-key requests), and {@link #LISTS_IN_FLIGHT_MAX} listings at once.
   */
  private Behavior<Command> onList(ListKeys list) {
    Optional<String> fenced = settings.fence().reason();
    if (fenced.isPresent()) {
      list.replyTo().tell(new NotStarted(fenced.get(), NotStarted.CLOCK));
      return this;
    }
    if (inFlight >= settings.inFlightMax() / 2) {
      list.replyTo().tell(new Overloaded(inFlight, settings.inFlightMax() / 2));
      return this;
    }
    if (listsInFlight >= LISTS_IN_FLIGHT_MAX) {
      list.replyTo().tell(new Overloaded(listsInFlight, LISTS_IN_FLIGHT_MAX));
      return this;
    }
    ActorRef<ListCoordinator.Command> coordinator = getContext().spawnAnonymous(ListCoordinator.create(
        list.prefix(), list.start(), list.limit(), list.values(), list.consistency(), replicasInTurn(), settings,
        getContext().getSelf(), list.replyTo()));
    inFlight++;
    listsInFlight++;
    getContext().watchWith(coordinator, new ListStopped());
    return this;
  }

  /**
   * The replicas, the local one first and the peers rotated one step per request, so a
   * quorum-first round spreads its peer messages evenly over the peers.
   */
  private List<ReplicaHandle> replicasInTurn() {
    List<ReplicaHandle> all = settings.replicas();
    int peers = all.size() - 1;
    if (peers < 2) {
      return all;
    }
    turn = (turn + 1) % peers;
    List<ReplicaHandle> order = new ArrayList<>(all.size());
    order.add(all.get(0));
    List<ReplicaHandle> unreachable = new ArrayList<>();
    for (int i = 0; i < peers; i++) {
      ReplicaHandle peer = all.get(1 + (turn + i) % peers);
      (settings.reachable().test(peer.name()) ? order : unreachable).add(peer);
    }
    // Peers the pings find down go last: a quorum-first round asks a live one first instead of
    // waiting for its hedge delay on a dead one (they are still asked, on failure or hedge).
    order.addAll(unreachable);
    return order;
  }

  /** The fast-round gate's clock: monotonic, so a wall clock set back never keeps keys classic. */
  private static long monotonicMillis() {
    return System.nanoTime() / 1_000_000;
  }

  private void track(ActorRef<?> coordinator) {
    inFlight++;
    getContext().watchWith(coordinator, new CoordinatorStopped());
  }
}
