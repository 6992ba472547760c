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
      permits ReplicaProtocol.Request, AdmittedRequest, GetBuckets, ListEntries, ListUnsettledTombstones,
          CheckTombstone, SettleTombstone, Flush, SyncTick, PurgeTick, LateFlushTick, DiskTick {}

  /**
   * A request that passed the {@link StoreAdmission} bound; its {@code weight} is released once
   * it is served (an apply: once its batch is written and answered).
   */
  public record AdmittedRequest(ReplicaProtocol.Request request, long weight) implements Command {}

  /** Sends {@code request} to {@code store} if its queue admits it; else answers it unavailable. */
  public static void offer(
      ActorRef<Command> store, StoreAdmission admission, ReplicaProtocol.Request request, String name) {
    long weight = StoreAdmission.weightOf(request);
    if (admission.tryAdmit(weight)) {
      store.tell(new AdmittedRequest(request, weight));
    } else {
      request.replyTo().tell(admission.refusal(name));
    }
  }

  /** An apply waiting for its batch, and the weight to release once it is answered (0: not admitted). */
  private record QueuedApply(Apply apply, long weight) {}

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
  public record PurgeRule(Duration grace, Duration maxMessageAge, Duration checkInterval,
      java.util.function.BooleanSupplier clockTrusted) {}

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

  /** A batch holds at most this many applies, and at most {@link #BATCH_BYTES_MAX} of values. */
  static final int BATCH_COUNT_MAX = 1024;
  static final long BATCH_BYTES_MAX = 16L << 20;

  /** Write the queued Applies as one batch (or the first {@link #BATCH_COUNT_MAX} of them). */
  enum Flush implements Command { INSTANCE }

  /** {@link DeliberateBug#UNSYNCED_READS}: the only time queued Applies are written. */
  enum LateFlushTick implements Command { INSTANCE }

  /** {@code fsync = periodic}: make everything written so far durable. */
  enum SyncTick implements Command { INSTANCE }

  /** Measure the data directory against the quota; after a full disk, probe whether writes work again. */
  enum DiskTick implements Command { INSTANCE }

  static final Duration DISK_CHECK_INTERVAL = Duration.ofSeconds(1);
  /** The metadata entry the disk probe writes: one small synced write a second while the disk is full. */
  static final String WRITE_PROBE = "write-probe";

  static final Duration PERIODIC_SYNC_INTERVAL = Duration.ofMillis(100);
  static final Duration LATE_FLUSH_INTERVAL = Duration.ofSeconds(1);
  private static final int SCAN_PAGE = 1024;
  /** The most entries one listing answers, whatever the caller asks for. */
  public static final int ENTRIES_MAX = 10_000;
  /** Listings scanned at once; more are answered truncated. */
  static final int SCANS_MAX = 2;
  /** The refusal source of requests refused here rather than at the routes. */
  static final String STORE_SOURCE = "store";

  /**
   * A logger of its own: Akka's context logger takes its name from the call stack of its first
   * use, which named it {@code akka.actor.ActorCell} (filtered at WARN) for some paths.
   */
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(StoreActor.class);

  private final String name;
  private final long replicaId;
  private final Storage storage;
  private final HybridLogicalClock clock;
  private final ReplicaStats stats;
  private final List<QueuedApply> queued = new ArrayList<>();
  private final StoreAdmission admission;
  private final StorageAlarm alarm;
  private final java.util.concurrent.Semaphore scans = new java.util.concurrent.Semaphore(SCANS_MAX);
  /** Where listings scan: Akka's dispatcher for blocking work, never this actor's thread. */
  private final java.util.concurrent.Executor scanExecutor;
  /** The weight of the request being handled, when it was admitted; 0 otherwise. */
  private long admittedWeight;
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
      Duration maxMessageAge, Incarnation incarnation, PurgeRule purgeRule, StoreAdmission admission,
      StorageAlarm alarm, Set<DeliberateBug> bugs) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new StoreActor(ctx, timers, name, replicaId, storage, clock, stats, fsync, maxMessageAge, incarnation, purgeRule,
            admission, alarm, bugs)));
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
      StoreAdmission admission,
      StorageAlarm alarm,
      Set<DeliberateBug> bugs) {
    super(ctx);
    this.admission = admission;
    this.alarm = alarm;
    this.scanExecutor = ctx.getSystem().dispatchers().lookup(akka.actor.typed.DispatcherSelector.blocking());
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
    timers.startTimerWithFixedDelay(DiskTick.INSTANCE, DISK_CHECK_INTERVAL);
    alarm.measured(Math.max(0, storage.bytesOnDisk()));
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
        .onMessage(AdmittedRequest.class, this::onAdmitted)
        .onMessage(ReadVersion.class, request -> quarantining(request, this::onReadVersion))
        .onMessage(Read.class, request -> quarantining(request, this::onRead))
        .onMessage(Apply.class, request -> quarantining(request, this::onApply))
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
          unlessFull(storage::sync);
          return this;
        })
        .onMessageEquals(DiskTick.INSTANCE, this::onDiskTick)
        .onSignal(PostStop.class, signal -> onStop())
        .build();
  }

  /**
   * Serves an admitted request like any other. A read leaves the queue as it is served; an
   * apply's weight is released just before it is answered (once its batch is written), so a
   * caller that hears the answer finds the bound already freed.
   */
  private Behavior<Command> onAdmitted(AdmittedRequest admitted) {
    ReplicaProtocol.Request request = admitted.request();
    if (!(request instanceof Apply apply)) {
      admission.release(admitted.weight());
      return request instanceof Read read ? quarantining(read, this::onRead)
          : quarantining((ReadVersion) request, this::onReadVersion);
    }
    admittedWeight = admitted.weight();
    try {
      return quarantining(apply, this::onApply);
    } finally {
      if (admittedWeight > 0) { // answered at once (refused, too old): not queued
        admission.release(admittedWeight);
      }
      admittedWeight = 0;
    }
  }

  /**
   * Runs {@code handler}; a record of the key that cannot be decoded makes the answer
   * unavailable (never absent, which could break quorum intersection), and the actor lives on.
   */
  private <R extends ReplicaProtocol.Request> Behavior<Command> quarantining(
      R request, java.util.function.Function<R, Behavior<Command>> handler) {
    try {
      return handler.apply(request);
    } catch (CorruptRecordException e) {
      request.replyTo().tell(new ReplicaProtocol.Unavailable(name, "the stored record of this key is unreadable"
          + " (quarantined until a peer's record replaces it)"));
      return this;
    }
  }

  private Behavior<Command> onReadVersion(ReadVersion request) {
    if (!admitted(request, request.stamp().clock())) {
      return this;
    }
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
    if (!admitted(request, request.stamp().clock())) {
      return this;
    }
    if (!incarnation.isReady()) {
      request.replyTo().tell(notReady());
      return this;
    }
    request.replyTo().tell(new RecordHeld(name, stamp(), visible(request.key())));
    return this;
  }

  private Behavior<Command> onApply(Apply request) {
    if (!admitted(request, request.stamp().clock(), request.record().version().hlc())) {
      return this;
    }
    if (isTooOld(request.stamp())) {
      // A record that waited in some queue, retry or mailbox for longer than max-message-age
      // is not applied: only fresh messages may bring values back (DESIGN.md section 8).
      stats.staleMessageIgnored();
      Optional<Record> held = storage.get(request.key());
      request.replyTo().tell(new Applied(name, stamp(), Record.versionOf(held), Record.digestOf(held)));
      return this;
    }
    Optional<String> refused = alarm.refusal(request.record().isTombstone());
    if (refused.isPresent()) {
      request.replyTo().tell(new ReplicaProtocol.Unavailable(name, refused.get()));
      return this; // not applied: the admitted weight is released by onAdmitted
    }
    queued.add(new QueuedApply(request, admittedWeight));
    admittedWeight = 0; // released once the batch is answered
    if (queued.size() == 1) {
      getContext().getSelf().tell(Flush.INSTANCE);
    }
    return this;
  }

  private Behavior<Command> onFlush() {
    // A batch is capped by count and bytes, so one storage write never holds more than that;
    // what is left goes in the next batch, right behind whatever arrived meanwhile.
    int size = 0;
    long bytes = 0;
    while (size < queued.size() && size < BATCH_COUNT_MAX && (size == 0 || bytes < BATCH_BYTES_MAX)) {
      Record record = queued.get(size).apply().record();
      bytes += record.isTombstone() ? 0 : record.value().length();
      size++;
    }
    List<QueuedApply> taken = new ArrayList<>(queued.subList(0, size));
    queued.subList(0, size).clear();
    if (!queued.isEmpty()) {
      getContext().getSelf().tell(Flush.INSTANCE);
    }
    // Queued before the disk filled (or the quota was reached): refused now, not written.
    taken.removeIf(queuedApply -> {
      Optional<String> refused = alarm.refusal(queuedApply.apply().record().isTombstone());
      refused.ifPresent(reason -> answer(queuedApply, new ReplicaProtocol.Unavailable(name, reason)));
      return refused.isPresent();
    });
    if (taken.isEmpty()) {
      return this;
    }
    List<KeyedRecord> batch = new ArrayList<>(taken.size());
    for (QueuedApply queuedApply : taken) {
      batch.add(new KeyedRecord(queuedApply.apply().key(), queuedApply.apply().record()));
    }
    long began = System.nanoTime();
    List<ApplyOutcome> outcomes;
    try {
      outcomes = storage.applyIfNewer(batch);
    } catch (StorageFullException e) {
      diskFull(e);
      // Unavailable, never "not applied": the batch may still surface from the log when the
      // store recovers. A coordinator counts no ack here, and its apply round is indeterminate.
      String reason = alarm.refusal(false).orElse("storage full");
      for (QueuedApply queuedApply : taken) {
        answer(queuedApply, new ReplicaProtocol.Unavailable(name, reason));
      }
      return this;
    }
    stats.committed(System.nanoTime() - began);
    Stamp stamp = stamp();
    for (int i = 0; i < taken.size(); i++) {
      Apply apply = taken.get(i).apply();
      ApplyOutcome outcome = outcomes.get(i);
      if (outcome.changed()) {
        accountFor(apply.key(), outcome);
      }
      Record now = outcome.held();
      if (now.version().equals(apply.record().version()) && now.digest() != apply.record().digest()) {
        stats.digestConflict(apply.key(), now.version(), "apply on " + name);
      }
      // Not ready: the record is kept, but this replica does not count toward W yet.
      answer(taken.get(i), incarnation.isReady() ? new Applied(name, stamp, now.version(), now.digest()) : notReady());
    }
    return this;
  }

  /** Releases a queued apply's admitted weight, then answers it: its caller finds the bound freed. */
  private void answer(QueuedApply queuedApply, ReplicaProtocol.Answer answer) {
    if (queuedApply.weight() > 0) {
      admission.release(queuedApply.weight());
    }
    queuedApply.apply().replyTo().tell(answer);
  }

  /**
   * Every second: the data directory's size against the quota, and, while the disk is full, one
   * probe write (RocksDB takes writes again once it has recovered, after room was made).
   */
  private Behavior<Command> onDiskTick() {
    if (alarm.isDiskFull()) {
      try {
        storage.putMeta(WRITE_PROBE, new byte[] {1});
        if (alarm.diskWritable()) {
          log.warn("Storage takes writes again: the disk under the data directory has room");
        }
      } catch (StorageFullException e) {
        // Still full: the alarm stays.
      }
    }
    long bytes = storage.bytesOnDisk();
    if (bytes >= 0 && alarm.measured(bytes)) {
      if (alarm.refusesWrites() && !alarm.isDiskFull()) {
        log.warn("Storage quota reached: the data directory takes {} bytes, storage.bytes-max is {};"
            + " values are refused, deletes are taken", bytes, alarm.bytesMax());
      } else if (!alarm.refusesWrites()) {
        log.warn("Storage below its quota again ({} bytes): values are taken", bytes);
      }
    }
    return this;
  }

  private void diskFull(StorageFullException e) {
    if (alarm.diskFull(e.getMessage())) {
      log.error("Storage refuses writes: the disk under the data directory is full ({}). Reads go on;"
          + " writes are refused (503, phase storage) until there is room again, then resume by themselves", e.getMessage());
    }
  }

  /** Runs a background write (settling, purging, syncing) unless the disk is full, which it notes. */
  private void unlessFull(Runnable write) {
    try {
      write.run();
    } catch (StorageFullException e) {
      diskFull(e); // tried again on its next occasion
    }
  }

  /**
   * Lists entries from a snapshot taken now, scanned off this actor's thread (a listing visits
   * every record), so reads and writes go on meanwhile. At most {@link #SCANS_MAX} at once:
   * beyond that, and past {@link #ENTRIES_MAX} entries, the answer is truncated, which a round
   * counts as incomplete (it tries again, with other buckets first).
   */
  private Behavior<Command> onListEntries(ListEntries request) {
    if (!scans.tryAcquire()) {
      request.replyTo().tell(new Entries(List.of(), true));
      return this;
    }
    Storage.Snapshot snapshot;
    try {
      snapshot = storage.snapshot();
    } catch (RuntimeException e) {
      scans.release();
      throw e;
    }
    int limit = Math.min(request.limit(), ENTRIES_MAX);
    java.util.concurrent.CompletableFuture.runAsync(() -> {
      try (snapshot) {
        request.replyTo().tell(entriesOf(snapshot, request.buckets(), limit, request.includeSettled()));
      } catch (RuntimeException e) {
        request.replyTo().tell(new Entries(List.of(), true)); // the storage closed meanwhile
      } finally {
        scans.release();
      }
    }, scanExecutor);
    return this;
  }

  /** The entries of {@code buckets} in a snapshot, in key order, at most {@code limit}. */
  static Entries entriesOf(Storage.Snapshot snapshot, Set<Integer> buckets, int limit, boolean includeSettled) {
    List<Entry> entries = new ArrayList<>();
    String from = "";
    while (true) {
      List<KeyedRecord> page = snapshot.scan(from, SCAN_PAGE);
      for (KeyedRecord record : page) {
        Version version = record.record().version();
        boolean settledTombstone = record.record().isTombstone()
            && snapshot.settledVersion(record.key()).filter(version::equals).isPresent();
        if (buckets.contains(BucketHashes.bucketOf(record.key())) && (includeSettled || !settledTombstone)) {
          if (entries.size() >= limit) {
            return new Entries(entries, true);
          }
          entries.add(new Entry(record.key(), version, record.record().digest()));
        }
      }
      if (page.size() < SCAN_PAGE) {
        return new Entries(entries, false);
      }
      from = page.get(page.size() - 1).key() + "\0";
    }
  }

  /** Keeps the bucket hashes and the tombstone bookkeeping in step with an apply that changed a key. */
  private void accountFor(String key, ApplyOutcome outcome) {
    Optional<Record> before = outcome.before();
    if (before.isPresent() && isSettled(key, before.get().version())) {
      before = Optional.empty(); // a settled tombstone was already out of the hashes
      settled.remove(key);
      // On a full disk the stale marker stays; it names an older version, so it settles nothing.
      unlessFull(() -> storage.deleteSettled(key));
    }
    buckets.replace(key, before, outcome.held());
    if (outcome.held().isTombstone()) {
      unsettledTombstones.put(key, outcome.held().version());
    } else {
      unsettledTombstones.remove(key);
    }
  }

  /** For the tombstone bookkeeping only: a corrupt record holds no tombstone anyone asks about. */
  private Optional<Record> heldOrEmptyIfCorrupt(String key) {
    try {
      return storage.get(key);
    } catch (CorruptRecordException e) {
      return Optional.empty();
    }
  }

  /** What reads see: the record held, except that a settled tombstone is absence. */
  private Optional<Record> visible(String key) {
    Optional<Record> held = storage.get(key);
    if (readsSeeQueued) {
      for (QueuedApply queuedApply : queued) {
        Apply apply = queuedApply.apply();
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

  /**
   * Clock rule 1, kept here too so no path around the routes' checks reaches the clock: a
   * request from further ahead than max-clock-offset is answered unavailable and changes nothing.
   */
  private boolean admitted(ReplicaProtocol.Request request, long... readings) {
    if (clock.admit(STORE_SOURCE, () -> request.getClass().getSimpleName() + " of key [" + request.key() + "]",
        readings)) {
      return true;
    }
    request.replyTo().tell(new ReplicaProtocol.Unavailable(name,
        "clock reading refused (beyond max-clock-offset, or the clock's next mark cannot be recorded)"));
    return false;
  }

  private Behavior<Command> onCheckTombstone(CheckTombstone request) {
    Optional<Record> held = heldOrEmptyIfCorrupt(request.key());
    boolean holds = incarnation.isReady() && held.isPresent() && held.get().isTombstone()
        && held.get().version().equals(request.version());
    request.replyTo().tell(new TombstoneHeld(request.key(), holds));
    return this;
  }

  private Behavior<Command> onSettleTombstone(SettleTombstone request) {
    Optional<Record> held = heldOrEmptyIfCorrupt(request.key());
    if (held.isEmpty() || !held.get().isTombstone() || !held.get().version().equals(request.version())
        || isSettled(request.key(), request.version())) {
      return this; // superseded, or settled already
    }
    SettledTombstone tombstone = new SettledTombstone(request.key(), request.version(), System.currentTimeMillis());
    try {
      storage.putSettled(tombstone);
    } catch (StorageFullException e) {
      diskFull(e);
      return this; // not settled: the sweeper asks again later
    }
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
    if (!purgeRule.clockTrusted().getAsBoolean()) {
      return this; // the purge rule reads this replica's clock: not while the clock fence holds
    }
    if (alarm.isDiskFull()) {
      return this; // a purge is a write too
    }
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
      unlessFull(() -> purgeUnsettled(clockMillis));
    }
    try {
      for (SettledTombstone tombstone : due) {
        if (storage.deleteIfHeld(tombstone.key(), tombstone.version())) {
          stats.tombstonePurged();
        }
        storage.deleteSettled(tombstone.key());
        settled.remove(tombstone.key());
      }
    } catch (StorageFullException e) {
      diskFull(e); // the rest are purged on a later tick
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
        + NOT_READY);
  }

  private static final String NOT_READY = ": a new data directory counts toward no quorum until it has caught up";

  /**
   * Whether an Apply's unavailable answer is the one a replica that is not ready gives after
   * applying the record all the same; any other (a refused clock, say) means it was not applied.
   */
  public static boolean appliedWhileNotReady(ReplicaProtocol.Unavailable answer) {
    return answer.reason().endsWith(NOT_READY);
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
    try {
      storage.sync();
      ReplicaMetadata.markStoppedCleanly(storage);
    } catch (StorageFullException e) {
      // The next start counts this stop as a crash: it loses nothing, only the shortcut.
      log.warn("Could not record a clean stop: the disk is full");
    }
    storage.close();
    log.info("Storage closed");
    return this;
  }
}
