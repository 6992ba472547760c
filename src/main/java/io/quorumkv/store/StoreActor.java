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
import io.quorumkv.faults.DeliberateBug;
import io.quorumkv.version.HybridLogicalClock;
import io.quorumkv.version.Version;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
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
  public sealed interface Command
      permits ReplicaProtocol.Request, GetBuckets, ListEntries, ListUnsettledTombstones, CheckTombstone,
          SettleTombstone, Flush, SyncTick, PurgeTick, LateFlushTick {}

  /** Asks for up to {@code limit} tombstones not settled yet, older than {@code olderThanHlc}. */
  public record ListUnsettledTombstones(int limit, long olderThanHlc, ActorRef<UnsettledTombstones> replyTo)
      implements Command {}

  public record UnsettledTombstones(List<Entry> tombstones) {}

  /** Asks whether this replica holds the tombstone of {@code key} at {@code version}. */
  public record CheckTombstone(String key, Version version, ActorRef<TombstoneHeld> replyTo) implements Command {}

  /**
   * {@code holds}: this replica (ready, in its current incarnation) durably holds that very
   * tombstone, settled or not.
   */
  public record TombstoneHeld(String key, boolean holds) {}

  /** Every replica was seen holding this tombstone: it counts as absence from now on. */
  public record SettleTombstone(String key, Version version) implements Command {}

  /** Purge the settled tombstones that are old enough. */
  enum PurgeTick implements Command { INSTANCE }

  /** When settled tombstones may be purged (DESIGN.md section 8). */
  public record PurgeRule(Duration grace, Duration maxMessageAge, Duration checkInterval) {}

  /** Asks for a snapshot of the bucket hashes (anti-entropy). */
  public record GetBuckets(ActorRef<Buckets> replyTo) implements Command {}

  /** The bucket hashes, see {@link BucketHashes#snapshot()}. */
  public record Buckets(long[] hashes) {}

  /**
   * Asks for {@code (key, version, digest)} of every record in {@code buckets}, at most
   * {@code limit}. Settled tombstones count as absence and are left out, unless
   * {@code includeSettled}: a rebuilding replica must learn of them, or an older value it still
   * holds would outlive the delete.
   */
  public record ListEntries(Set<Integer> buckets, int limit, boolean includeSettled, ActorRef<Entries> replyTo)
      implements Command {}

  /** One record as anti-entropy compares it. */
  public record Entry(String key, Version version, long digest) {}

  /** The entries of the asked buckets in key order; {@code truncated} when the limit cut them. */
  public record Entries(List<Entry> entries, boolean truncated) {}

  /** Write the queued Applies as one batch. */
  enum Flush implements Command { INSTANCE }

  /** {@link DeliberateBug#UNSYNCED_READS}: the only time queued Applies are written. */
  enum LateFlushTick implements Command { INSTANCE }

  /** {@code fsync = periodic}: make everything written so far durable. */
  enum SyncTick implements Command { INSTANCE }

  static final Duration PERIODIC_SYNC_INTERVAL = Duration.ofMillis(100);
  static final Duration LATE_FLUSH_INTERVAL = Duration.ofSeconds(1);
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
  private final PurgeRule purgeRule;
  private final Map<String, SettledTombstone> settled = new HashMap<>();
  private final Map<String, Version> unsettledTombstones = new HashMap<>();
  private final boolean readsSeeQueued; // DeliberateBug.UNSYNCED_READS
  private final boolean purgeOnTimer; // DeliberateBug.TIMER_PURGE

  /**
   * @param name the name local coordinators know this replica by (the node id)
   * @param replicaId this replica's random 64-bit id
   */
  public static Behavior<Command> create(
      String name, long replicaId, Storage storage, HybridLogicalClock clock, ReplicaStats stats, FsyncMode fsync,
      Duration maxMessageAge, Incarnation incarnation, PurgeRule purgeRule, Set<DeliberateBug> bugs) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new StoreActor(ctx, timers, name, replicaId, storage, clock, stats, fsync, maxMessageAge, incarnation, purgeRule,
            bugs)));
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
      Incarnation incarnation,
      PurgeRule purgeRule,
      Set<DeliberateBug> bugs) {
    super(ctx);
    this.readsSeeQueued = bugs.contains(DeliberateBug.UNSYNCED_READS);
    this.purgeOnTimer = bugs.contains(DeliberateBug.TIMER_PURGE);
    this.incarnation = incarnation;
    this.purgeRule = purgeRule;
    for (SettledTombstone tombstone : storage.allSettled()) {
      settled.put(tombstone.key(), tombstone);
    }
    this.maxMessageAgeMillis = maxMessageAge.toMillis();
    this.name = name;
    this.replicaId = replicaId;
    this.storage = storage;
    this.clock = clock;
    this.stats = stats;
    // One full scan at start: settled tombstones count as absence; the others are remembered.
    this.buckets = BucketHashes.rebuild(storage, entry -> {
      if (isSettled(entry.key(), entry.record().version())) {
        return false;
      }
      if (entry.record().isTombstone()) {
        unsettledTombstones.put(entry.key(), entry.record().version());
      }
      return true;
    });
    timers.startTimerWithFixedDelay(PurgeTick.INSTANCE, purgeRule.checkInterval());
    if (fsync == FsyncMode.PERIODIC) {
      timers.startTimerWithFixedDelay(SyncTick.INSTANCE, PERIODIC_SYNC_INTERVAL);
    }
    if (readsSeeQueued) {
      timers.startTimerWithFixedDelay(LateFlushTick.INSTANCE, LATE_FLUSH_INTERVAL);
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
        .onMessage(ListUnsettledTombstones.class, this::onListUnsettledTombstones)
        .onMessage(CheckTombstone.class, this::onCheckTombstone)
        .onMessage(SettleTombstone.class, this::onSettleTombstone)
        .onMessageEquals(PurgeTick.INSTANCE, this::onPurgeTick)
        .onMessageEquals(Flush.INSTANCE, () -> readsSeeQueued ? this : onFlush())
        .onMessageEquals(LateFlushTick.INSTANCE, () -> queued.isEmpty() ? this : onFlush())
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
    Optional<Record> held = visible(request.key());
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
    request.replyTo().tell(new RecordHeld(name, stamp(), visible(request.key())));
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
    long began = System.nanoTime();
    List<ApplyOutcome> outcomes = storage.applyIfNewer(batch);
    stats.committed(System.nanoTime() - began);
    Stamp stamp = stamp();
    for (int i = 0; i < queued.size(); i++) {
      Apply apply = queued.get(i);
      ApplyOutcome outcome = outcomes.get(i);
      if (outcome.changed()) {
        accountFor(apply.key(), outcome);
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
        if (request.buckets().contains(BucketHashes.bucketOf(record.key()))
            && (request.includeSettled() || !isSettled(record.key(), record.record().version()))) {
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

  /** Keeps the bucket hashes and the tombstone bookkeeping in step with an apply that changed a key. */
  private void accountFor(String key, ApplyOutcome outcome) {
    Optional<Record> before = outcome.before();
    if (before.isPresent() && isSettled(key, before.get().version())) {
      before = Optional.empty(); // a settled tombstone was already out of the hashes
      settled.remove(key);
      storage.deleteSettled(key);
    }
    buckets.replace(key, before, outcome.held());
    if (outcome.held().isTombstone()) {
      unsettledTombstones.put(key, outcome.held().version());
    } else {
      unsettledTombstones.remove(key);
    }
  }

  /** What reads see: the record held, except that a settled tombstone is absence. */
  private Optional<Record> visible(String key) {
    Optional<Record> held = storage.get(key);
    if (readsSeeQueued) {
      for (Apply apply : queued) {
        if (apply.key().equals(key) && apply.record().version().compareTo(Record.versionOf(held)) > 0) {
          held = Optional.of(apply.record()); // the deliberate bug: not durable yet
        }
      }
    }
    return held.filter(record -> !isSettled(key, record.version()));
  }

  private boolean isSettled(String key, Version version) {
    SettledTombstone tombstone = settled.get(key);
    return tombstone != null && tombstone.version().equals(version);
  }

  private Behavior<Command> onListUnsettledTombstones(ListUnsettledTombstones request) {
    List<Entry> found = new ArrayList<>();
    for (Map.Entry<String, Version> tombstone : unsettledTombstones.entrySet()) {
      if (found.size() >= request.limit()) {
        break;
      }
      if (tombstone.getValue().hlc() < request.olderThanHlc()) {
        found.add(new Entry(tombstone.getKey(), tombstone.getValue(), Record.TOMBSTONE_DIGEST));
      }
    }
    request.replyTo().tell(new UnsettledTombstones(found));
    return this;
  }

  private Behavior<Command> onCheckTombstone(CheckTombstone request) {
    Optional<Record> held = storage.get(request.key());
    boolean holds = incarnation.isReady() && held.isPresent() && held.get().isTombstone()
        && held.get().version().equals(request.version());
    request.replyTo().tell(new TombstoneHeld(request.key(), holds));
    return this;
  }

  private Behavior<Command> onSettleTombstone(SettleTombstone request) {
    Optional<Record> held = storage.get(request.key());
    if (held.isEmpty() || !held.get().isTombstone() || !held.get().version().equals(request.version())
        || isSettled(request.key(), request.version())) {
      return this; // superseded, or settled already
    }
    SettledTombstone tombstone = new SettledTombstone(request.key(), request.version(), System.currentTimeMillis());
    storage.putSettled(tombstone);
    settled.put(request.key(), tombstone);
    unsettledTombstones.remove(request.key());
    buckets.toggle(request.key(), held.get()); // out of the hashes: it now equals absence
    return this;
  }

  /**
   * Purges a settled tombstone once this replica's clock is past its version by the grace
   * (hint expiry + max-message-age + skew margin: no hint or message can still bring an older
   * value), and max-message-age has passed here since it settled.
   */
  private Behavior<Command> onPurgeTick() {
    long clockMillis = HybridLogicalClock.millisOf(clock.peek());
    long nowMillis = System.currentTimeMillis();
    List<SettledTombstone> due = new ArrayList<>();
    for (SettledTombstone tombstone : settled.values()) {
      if (clockMillis >= HybridLogicalClock.millisOf(tombstone.version().hlc()) + purgeRule.grace().toMillis()
          && nowMillis >= tombstone.settledAtMillis() + purgeRule.maxMessageAge().toMillis()) {
        due.add(tombstone);
      }
    }
    if (purgeOnTimer) {
      purgeUnsettled(clockMillis);
    }
    for (SettledTombstone tombstone : due) {
      if (storage.deleteIfHeld(tombstone.key(), tombstone.version())) {
        stats.tombstonePurged();
      }
      storage.deleteSettled(tombstone.key());
      settled.remove(tombstone.key());
    }
    return this;
  }

  /** {@link DeliberateBug#TIMER_PURGE}: every tombstone past the grace goes, settled by all replicas or not. */
  private void purgeUnsettled(long clockMillis) {
    List<Map.Entry<String, Version>> due = unsettledTombstones.entrySet().stream()
        .filter(tombstone -> clockMillis >= HybridLogicalClock.millisOf(tombstone.getValue().hlc())
            + purgeRule.grace().toMillis())
        .toList();
    for (Map.Entry<String, Version> tombstone : due) {
      if (storage.deleteIfHeld(tombstone.getKey(), tombstone.getValue())) {
        stats.tombstonePurged();
        buckets.toggle(tombstone.getKey(), Record.tombstone(tombstone.getValue()));
      }
      unsettledTombstones.remove(tombstone.getKey());
    }
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
