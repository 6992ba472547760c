package io.quorumkv.store;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import io.quorumkv.store.ReplicaProtocol.Applied;
import io.quorumkv.store.ReplicaProtocol.Apply;
import io.quorumkv.store.ReplicaProtocol.Read;
import io.quorumkv.store.ReplicaProtocol.ReadVersion;
import io.quorumkv.store.ReplicaProtocol.RecordHeld;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.store.ReplicaProtocol.VersionHeld;
import io.quorumkv.version.HybridLogicalClock;
import io.quorumkv.version.Version;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The replica's data: the only actor that touches its {@link Storage}. It answers the
 * {@link ReplicaProtocol} for the local coordinators and, through the internal HTTP routes,
 * for the peers' coordinators.
 *
 * <p>Group commit: an {@link Apply} is not written at once but queued, and the first queued
 * Apply sends the actor a {@code Flush} behind everything already in its mailbox. So all
 * Applies that arrived together become one storage batch and (with {@code fsync = always})
 * one sync, and only then are they answered — the batch is sized by what is waiting, not by
 * a timer. Reads answer from storage, which never shows a queued record: a replica answers
 * only from what it durably holds (DESIGN.md section 6).
 *
 * <p>It runs on the dedicated {@code quorumkv.storage-dispatcher} because storage calls
 * block. Every message moves the clock past the sender's clock and every version it carries.
 */
public final class StoreActor extends AbstractBehavior<StoreActor.Command> {

  /** The replica protocol, the anti-entropy queries, and the actor's own timers. */
  public sealed interface Command permits ReplicaProtocol.Request, GetBuckets, ListEntries, Flush, SyncTick {}

  /** Asks for a snapshot of the bucket hashes (anti-entropy). */
  public record GetBuckets(ActorRef<Buckets> replyTo) implements Command {}

  /** The bucket hashes, see {@link BucketHashes#snapshot()}. */
  public record Buckets(long[] hashes) {}

  /** Asks for {@code (key, version, digest)} of every record in {@code buckets}, at most {@code limit}. */
  public record ListEntries(Set<Integer> buckets, int limit, ActorRef<Entries> replyTo) implements Command {}

  /** One record as anti-entropy compares it. */
  public record Entry(String key, Version version, long digest) {}

  /** The entries of the asked buckets in key order; {@code truncated} when the limit cut them. */
  public record Entries(List<Entry> entries, boolean truncated) {}

  /** Write the queued Applies as one batch. */
  enum Flush implements Command { INSTANCE }

  /** {@code fsync = periodic}: make everything written so far durable. */
  enum SyncTick implements Command { INSTANCE }

  static final Duration PERIODIC_SYNC_INTERVAL = Duration.ofMillis(100);
  private static final int SCAN_PAGE = 1024;

  private final String name;
  private final long replicaId;
  private final Storage storage;
  private final HybridLogicalClock clock;
  private final ReplicaStats stats;
  private final List<Apply> queued = new ArrayList<>();
  private final BucketHashes buckets;
  private final long maxMessageAgeMillis;
  private final Incarnation incarnation;

  /**
   * @param name the name local coordinators know this replica by (the node id)
   * @param replicaId this replica's random 64-bit id
   */
  public static Behavior<Command> create(
      String name, long replicaId, Storage storage, HybridLogicalClock clock, ReplicaStats stats, FsyncMode fsync,
      Duration maxMessageAge, Incarnation incarnation) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new StoreActor(ctx, timers, name, replicaId, storage, clock, stats, fsync, maxMessageAge, incarnation)));
  }

  private StoreActor(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      String name,
      long replicaId,
      Storage storage,
      HybridLogicalClock clock,
      ReplicaStats stats,
      FsyncMode fsync,
      Duration maxMessageAge,
      Incarnation incarnation) {
    super(ctx);
    this.incarnation = incarnation;
    this.maxMessageAgeMillis = maxMessageAge.toMillis();
    this.name = name;
    this.replicaId = replicaId;
    this.storage = storage;
    this.clock = clock;
    this.stats = stats;
    this.buckets = BucketHashes.rebuild(storage); // a full scan, once, at start
    if (fsync == FsyncMode.PERIODIC) {
      timers.startTimerWithFixedDelay(SyncTick.INSTANCE, PERIODIC_SYNC_INTERVAL);
    }
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(ReadVersion.class, this::onReadVersion)
        .onMessage(Read.class, this::onRead)
        .onMessage(Apply.class, this::onApply)
        .onMessage(GetBuckets.class, request -> {
          request.replyTo().tell(new Buckets(buckets.snapshot()));
          return this;
        })
        .onMessage(ListEntries.class, this::onListEntries)
        .onMessageEquals(Flush.INSTANCE, this::onFlush)
        .onMessageEquals(SyncTick.INSTANCE, () -> {
          storage.sync();
          return this;
        })
        .onSignal(PostStop.class, signal -> onStop())
        .build();
  }

  private Behavior<Command> onReadVersion(ReadVersion request) {
    clock.observe(request.stamp().clock());
    if (!incarnation.isReady()) {
      request.replyTo().tell(notReady());
      return this;
    }
    Optional<Record> held = storage.get(request.key());
    request.replyTo().tell(
        new VersionHeld(name, stamp(), Record.versionOf(held), Record.digestOf(held)));
    return this;
  }

  private Behavior<Command> onRead(Read request) {
    clock.observe(request.stamp().clock());
    if (!incarnation.isReady()) {
      request.replyTo().tell(notReady());
      return this;
    }
    request.replyTo().tell(new RecordHeld(name, stamp(), storage.get(request.key())));
    return this;
  }

  private Behavior<Command> onApply(Apply request) {
    clock.observe(request.stamp().clock());
    if (isTooOld(request.stamp())) {
      // A record that waited in some queue, retry or mailbox for longer than max-message-age
      // is not applied: only fresh messages may bring values back (DESIGN.md section 8).
      stats.staleMessageIgnored();
      Optional<Record> held = storage.get(request.key());
      request.replyTo().tell(new Applied(name, stamp(), Record.versionOf(held), Record.digestOf(held)));
      return this;
    }
    clock.observe(request.record().version().hlc());
    queued.add(request);
    if (queued.size() == 1) {
      getContext().getSelf().tell(Flush.INSTANCE);
    }
    return this;
  }

  private Behavior<Command> onFlush() {
    List<KeyedRecord> batch = new ArrayList<>(queued.size());
    for (Apply apply : queued) {
      batch.add(new KeyedRecord(apply.key(), apply.record()));
    }
    List<ApplyOutcome> outcomes = storage.applyIfNewer(batch);
    Stamp stamp = stamp();
    for (int i = 0; i < queued.size(); i++) {
      Apply apply = queued.get(i);
      ApplyOutcome outcome = outcomes.get(i);
      if (outcome.changed()) {
        buckets.replace(apply.key(), outcome.before(), outcome.held());
      }
      Record now = outcome.held();
      if (now.version().equals(apply.record().version()) && now.digest() != apply.record().digest()) {
        stats.digestConflict(apply.key(), now.version(), "apply on " + name);
      }
      // Not ready: the record is kept, but this replica does not count toward W yet.
      apply.replyTo().tell(incarnation.isReady() ? new Applied(name, stamp, now.version(), now.digest()) : notReady());
    }
    queued.clear();
    return this;
  }

  private Behavior<Command> onListEntries(ListEntries request) {
    List<Entry> entries = new ArrayList<>();
    boolean truncated = false;
    String from = "";
    scan:
    while (true) {
      List<KeyedRecord> page = storage.scan(from, SCAN_PAGE);
      for (KeyedRecord record : page) {
        if (request.buckets().contains(BucketHashes.bucketOf(record.key()))) {
          if (entries.size() >= request.limit()) {
            truncated = true;
            break scan;
          }
          entries.add(new Entry(record.key(), record.record().version(), record.record().digest()));
        }
      }
      if (page.size() < SCAN_PAGE) {
        break;
      }
      from = page.get(page.size() - 1).key() + "\0";
    }
    request.replyTo().tell(new Entries(entries, truncated));
    return this;
  }

  private ReplicaProtocol.Unavailable notReady() {
    return new ReplicaProtocol.Unavailable(name, "replica is " + incarnation.state().name().toLowerCase(java.util.Locale.ROOT)
        + ": a new data directory counts toward no quorum until it has caught up");
  }

  /** Whether the message was sent longer than max-message-age ago, by the sender's clock. */
  private boolean isTooOld(Stamp sender) {
    return HybridLogicalClock.millisOf(clock.peek()) - HybridLogicalClock.millisOf(sender.clock()) > maxMessageAgeMillis;
  }

  /** Stamped after the clock observed the request, so the reading covers everything held. */
  private Stamp stamp() {
    return new Stamp(replicaId, clock.peek());
  }

  private Behavior<Command> onStop() {
    // Queued Applies were never acknowledged: dropping them loses nothing anyone was promised.
    storage.sync();
    ReplicaMetadata.markStoppedCleanly(storage);
    storage.close();
    getContext().getLog().info("Storage closed");
    return this;
  }
}
