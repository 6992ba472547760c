package io.quorumkv.replication;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import io.quorumkv.store.ReplicaHandle;
import io.quorumkv.store.ReplicaProtocol.Answer;
import io.quorumkv.store.ReplicaProtocol.Applied;
import io.quorumkv.store.ReplicaProtocol.Apply;
import io.quorumkv.store.ReplicaProtocol.Buckets;
import io.quorumkv.store.ReplicaProtocol.Call;
import io.quorumkv.store.ReplicaProtocol.Cause;
import io.quorumkv.store.ReplicaProtocol.Entries;
import io.quorumkv.store.ReplicaProtocol.GetBuckets;
import io.quorumkv.store.ReplicaProtocol.ListEntries;
import io.quorumkv.store.ReplicaProtocol.Read;
import io.quorumkv.store.ReplicaProtocol.RecordHeld;
import io.quorumkv.store.ReplicaProtocol.Reply;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.store.ReplicaProtocol.StoreRequest;
import io.quorumkv.store.ReplicaProtocol.Unavailable;
import io.quorumkv.store.StoreActor;
import io.quorumkv.store.StoreCore;
import io.quorumkv.transport.FailureReasons;
import io.quorumkv.transport.PeerClient;
import io.quorumkv.version.HybridLogicalClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * One anti-entropy round between this replica and one peer, then it stops (docs/design.md,
 * "Convergence"): compare bucket hashes; for the buckets that differ, compare {@code (key, version)}
 * lists; then pull the records the peer holds newer and push the ones this replica holds
 * newer, each through the replica protocol (Read on the holder, Apply on the other), with at
 * most {@code inFlightMax} records moving at once. Reports an {@link AntiEntropyStatus.Round}.
 */
public final class AntiEntropySession extends AbstractBehavior<AntiEntropySession.Command> {

  public sealed interface Command {}

  /** The local store answered its bucket hashes or its entries. */
  private record LocalAnswered(Reply reply) implements Command {}

  private record RemoteBuckets(Buckets buckets, Throwable failure) implements Command {}

  private record RemoteEntries(Entries entries, Throwable failure) implements Command {}

  /** A step of a move answered ({@code answer} is null when the replica did not answer in time). */
  /** @param readAt the stamp taken before the move's record was read: its copy carries it */
  private record MoveStepped(AntiEntropyPlan.Move move, Answer answer, Stamp readAt) implements Command {}

  private enum DeadlinePassed implements Command { INSTANCE }

  /** How a round is bounded. */
  public record Limits(int bucketsPerRound, int keysPerRound, int inFlightMax, Duration stepTimeout, Duration timeout) {}

  private final ActorRef<StoreActor.Command> store;
  private final ReplicaHandle local;
  private final ReplicaHandle peer;
  private final PeerClient client;
  private final HybridLogicalClock clock;
  private final long replicaId;
  private final Limits limits;
  private final ActorRef<AntiEntropyStatus.Round> replyTo;

  private long[] localHashes;
  private long[] remoteHashes;
  private int differingBuckets;
  private Entries localEntries;
  private Entries remoteEntries;
  private final Deque<AntiEntropyPlan.Move> waiting = new ArrayDeque<>();
  private final Set<String> moving = new HashSet<>();
  private int pulled;
  private int pushed;
  private final boolean pullOnly;
  private boolean incomplete;

  public static Behavior<Command> create(
      ActorRef<StoreActor.Command> store, ReplicaHandle local, ReplicaHandle peer, PeerClient client,
      HybridLogicalClock clock, long replicaId, Limits limits, boolean pullOnly,
      ActorRef<AntiEntropyStatus.Round> replyTo) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new AntiEntropySession(
        ctx, timers, store, local, peer, client, clock, replicaId, limits, pullOnly, replyTo)));
  }

  private AntiEntropySession(
      ActorContext<Command> ctx, TimerScheduler<Command> timers, ActorRef<StoreActor.Command> store,
      ReplicaHandle local, ReplicaHandle peer, PeerClient client, HybridLogicalClock clock, long replicaId,
      Limits limits, boolean pullOnly, ActorRef<AntiEntropyStatus.Round> replyTo) {
    super(ctx);
    this.pullOnly = pullOnly;
    this.store = store;
    this.local = local;
    this.peer = peer;
    this.client = client;
    this.clock = clock;
    this.replicaId = replicaId;
    this.limits = limits;
    this.replyTo = replyTo;
    timers.startSingleTimer(DeadlinePassed.INSTANCE, limits.timeout());
    askStore(new GetBuckets(stamp()));
    ctx.pipeToSelf(client.call(new GetBuckets(stamp()), Buckets.class), RemoteBuckets::new);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(LocalAnswered.class, message -> {
          Answer answer = message.reply().answer();
          if (answer instanceof Buckets buckets) {
            localHashes = buckets.hashes();
            return compareBuckets();
          }
          if (answer instanceof Entries entries) {
            localEntries = entries;
            return compareEntries();
          }
          return finish("the local store did not answer: " + answer);
        })
        .onMessage(RemoteBuckets.class, message -> {
          if (message.failure() != null) {
            return finish(FailureReasons.describe(message.failure()));
          }
          if (!clock.admit(peer.name(), "bucket hashes", message.buckets().stamp().clock())) {
            return finish("the peer's clock reading is beyond max-clock-offset");
          }
          remoteHashes = message.buckets().hashes();
          return compareBuckets();
        })
        .onMessage(RemoteEntries.class, message -> {
          if (message.failure() != null) {
            return finish(FailureReasons.describe(message.failure()));
          }
          if (!clock.admit(peer.name(), "entries", message.entries().stamp().clock())) {
            return finish("the peer's clock reading is beyond max-clock-offset");
          }
          remoteEntries = message.entries();
          return compareEntries();
        })
        .onMessage(MoveStepped.class, this::onMoveStepped)
        .onMessageEquals(DeadlinePassed.INSTANCE, () -> finish("round did not finish in " + limits.timeout()))
        .build();
  }

  private Behavior<Command> compareBuckets() {
    if (localHashes == null || remoteHashes == null) {
      return this;
    }
    if (remoteHashes.length != localHashes.length) {
      return finish("peer sent " + remoteHashes.length + " bucket hashes");
    }
    AntiEntropyPlan.Buckets buckets = AntiEntropyPlan.buckets(localHashes, remoteHashes, limits.bucketsPerRound(),
        new Random());
    differingBuckets = buckets.differing();
    if (buckets.chosen().isEmpty()) {
      return finish(null);
    }
    incomplete |= buckets.incomplete();
    List<Integer> chosen = buckets.chosen();
    askStore(new ListEntries(chosen, limits.keysPerRound(), pullOnly, stamp()));
    getContext().pipeToSelf(client.call(new ListEntries(chosen, limits.keysPerRound(), pullOnly, stamp()),
        Entries.class), RemoteEntries::new);
    return this;
  }

  private Behavior<Command> compareEntries() {
    if (localEntries == null || remoteEntries == null) {
      return this;
    }
    AntiEntropyPlan.Moves moves = AntiEntropyPlan.moves(localEntries, remoteEntries, pullOnly);
    incomplete |= moves.incomplete();
    waiting.addAll(moves.moves());
    return moveMore();
  }

  private Behavior<Command> moveMore() {
    while (moving.size() < limits.inFlightMax() && !waiting.isEmpty()) {
      AntiEntropyPlan.Move move = waiting.poll();
      moving.add(move.key());
      // A copy of a value carries the stamp taken before its record was read, never a later one:
      // a replica takes no copy older than max-message-age by its stamp, and a purge waits that
      // long after a tombstone settled (docs/design.md, "Message age"). A tombstone known from
      // the listing goes at once: it brings no value back, however late it lands.
      if (move.known().isPresent()) {
        Stamp now = stamp();
        ask(move.pull() ? local : peer, move, new Apply(move.key(), move.known().get(), now, Cause.ANTI_ENTROPY), now);
      } else {
        Stamp readAt = stamp();
        ask(move.pull() ? peer : local, move, new Read(move.key(), readAt, Cause.ANTI_ENTROPY), readAt);
      }
    }
    return moving.isEmpty() ? finish(null) : this;
  }

  /** One request of a move; the answer comes back with the move it belongs to. */
  private void ask(ReplicaHandle replica, AntiEntropyPlan.Move move, StoreRequest request, Stamp readAt) {
    getContext().ask(Reply.class, replica.ref(), limits.stepTimeout(), replyTo -> new Call(request, 0, replyTo),
        (reply, failure) -> new MoveStepped(move, reply == null ? null : reply.answer(), readAt));
  }

  /** The local store's bucket hashes or entries (straight to the store: a background query is not admitted). */
  private void askStore(StoreRequest request) {
    store.tell(new Call(request, 0, getContext().messageAdapter(Reply.class, LocalAnswered::new)));
  }

  private Behavior<Command> onMoveStepped(MoveStepped step) {
    AntiEntropyPlan.Move move = step.move();
    if (step.answer() instanceof RecordHeld held && held.record().isPresent()
        && clock.admit(move.pull() ? peer.name() : local.name(), "anti-entropy read", held.stamp().clock(),
            held.record().get().version().hlc())) {
      ask(move.pull() ? local : peer, move,
          new Apply(move.key(), held.record().get(), step.readAt(), Cause.ANTI_ENTROPY), step.readAt());
      return this;
    }
    if (step.answer() instanceof Applied) {
      if (move.pull()) {
        pulled++;
      } else {
        pushed++;
      }
    } else if (move.pull() && !(step.answer() instanceof Unavailable unavailable
        && StoreCore.appliedWhileNotReady(unavailable))) {
      // The record did not arrive here: the peer did not hand it over, or this replica refused
      // it (a clock reading beyond max-clock-offset). A replica that is not ready answers
      // "unavailable" after applying the record all the same; only that answer counts as pulled.
      incomplete = true;
    }
    // Applied, nothing to read, unavailable or no answer in time: this move is over.
    moving.remove(move.key());
    return moveMore();
  }

  private Behavior<Command> finish(String error) {
    replyTo.tell(new AntiEntropyStatus.Round(Instant.now(), differingBuckets, pulled, pushed,
        error == null && !incomplete, error));
    return Behaviors.stopped();
  }

  private Stamp stamp() {
    return new Stamp(replicaId, clock.peek());
  }
}
