package io.quorumkv.store;

import io.quorumkv.config.FsyncMode;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import io.quorumkv.store.ReplicaProtocol.Answer;
import io.quorumkv.store.ReplicaProtocol.Applied;
import io.quorumkv.store.ReplicaProtocol.Apply;
import io.quorumkv.store.ReplicaProtocol.Buckets;
import io.quorumkv.store.ReplicaProtocol.Call;
import io.quorumkv.store.ReplicaProtocol.CheckTombstone;
import io.quorumkv.store.ReplicaProtocol.Entries;
import io.quorumkv.store.ReplicaProtocol.Entry;
import io.quorumkv.store.ReplicaProtocol.GetBuckets;
import io.quorumkv.store.ReplicaProtocol.ListEntries;
import io.quorumkv.store.ReplicaProtocol.Read;
import io.quorumkv.store.ReplicaProtocol.ReadVersion;
import io.quorumkv.store.ReplicaProtocol.RecordHeld;
import io.quorumkv.store.ReplicaProtocol.Reply;
import io.quorumkv.store.ReplicaProtocol.SettleTombstone;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.store.ReplicaProtocol.StoreRequest;
import io.quorumkv.store.ReplicaProtocol.TombstoneHeld;
import io.quorumkv.store.ReplicaProtocol.Unavailable;
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
 * The replica's data: the only actor that touches its {@link Storage}. It answers every
 * {@link StoreRequest} of the {@link ReplicaProtocol}, each in a {@link Call}, for this replica's
 * coordinators and background tasks and, through the internal endpoint, for the peers'.
 *
 * <p>Group commit: an {@link Apply} is not written at once but queued, and the first queued
 * Apply sends the actor a {@code Flush} behind everything already in its mailbox. So all
 * Applies that arrived together become one storage batch and (with {@code fsync = always})
 * one sync, and only then are they answered — the batch is sized by what is waiting, not by
 * a timer. Reads answer from storage, which never shows a queued record: a replica answers
 * only from what it durably holds (docs/design.md, "Request flow").
 *
 * <p>It runs on the dedicated {@code quorumkv.storage-dispatcher} because storage calls
 * block. Every message moves the clock past the sender's clock and every version it carries.
 */
public final class StoreActor extends AbstractBehavior<StoreActor.Command> {

  /** The replica protocol's calls, the tombstone sweeper's local listing, and the actor's own timers. */
  public sealed interface Command
      permits Call, AdmittedCall, ListUnsettledTombstones, Flush, SyncTick, PurgeTick, LateFlushTick, DiskTick {}

  /**
   * A call that passed the {@link StoreAdmission} bound; its {@code weight} is released once it
   * is served (an apply: once its batch is written and answered).
   */
  public record AdmittedCall(Call call, long weight) implements Command {}

  /** Sends {@code call} to {@code store} if its queue admits it; else answers it unavailable. */
  public static void offer(ActorRef<Command> store, StoreAdmission admission, Call call, String name) {
    long weight = StoreAdmission.weightOf(call.request());
    if (admission.tryAdmit(weight)) {
      store.tell(new AdmittedCall(call, weight));
    } else {
      call.replyTo().tell(new Reply(name, call.round(), admission.refusal()));
    }
  }

  /** An apply waiting for its batch, and the weight to release once it is answered (0: not admitted). */
  private record QueuedApply(Call call, Apply apply, long weight) {}

  /** Asks for up to {@code limit} tombstones not settled yet, older than {@code olderThanHlc}. */
  public record ListUnsettledTombstones(int limit, long olderThanHlc, ActorRef<UnsettledTombstones> replyTo)
      implements Command {}

  public record UnsettledTombstones(List<Entry> tombstones) {}

  /** Purge the settled tombstones that are old enough. */
  enum PurgeTick implements Command { INSTANCE }

  /** When settled tombstones may be purged (docs/design.md, "Convergence"). */
  public record PurgeRule(Duration grace, Duration maxMessageAge, Duration checkInterval,
      java.util.function.BooleanSupplier clockTrusted) {}

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
        .onMessage(AdmittedCall.class, this::onAdmitted)
        .onMessage(Call.class, this::onCall)
        .onMessage(ListUnsettledTombstones.class, this::onListUnsettledTombstones)
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
   * Serves an admitted call like any other. A read leaves the queue as it is served; an apply's
   * weight is released just before it is answered (once its batch is written), so a caller that
   * hears the answer finds the bound already freed.
   */
  private Behavior<Command> onAdmitted(AdmittedCall admitted) {
    if (!(admitted.call().request() instanceof Apply)) {
      admission.release(admitted.weight());
      return onCall(admitted.call());
    }
    admittedWeight = admitted.weight();
    try {
      return onCall(admitted.call());
    } finally {
      if (admittedWeight > 0) { // answered at once (refused, too old): not queued
        admission.release(admittedWeight);
      }
      admittedWeight = 0;
    }
  }

  /**
   * Answers one call, after its clock readings are admitted. A record of the key that cannot be
   * decoded makes the answer unavailable (never absent, which could break quorum intersection),
   * and the actor lives on.
   */
  private Behavior<Command> onCall(Call call) {
    StoreRequest request = call.request();
    if (!clock.admit(STORE_SOURCE, () -> describe(request), request.clockReadings())) {
      // Clock rule 1, kept here too so no path around the endpoint's checks reaches the clock.
      answer(call, new Unavailable(
          "clock reading refused (beyond max-clock-offset, or the clock's next mark cannot be recorded)"));
      return this;
    }
    try {
      if (request instanceof ReadVersion readVersion) {
        onReadVersion(call, readVersion);
      } else if (request instanceof Read read) {
        onRead(call, read);
      } else if (request instanceof Apply apply) {
        onApply(call, apply);
      } else if (request instanceof GetBuckets) {
        answer(call, new Buckets(stamp(), buckets.snapshot()));
      } else if (request instanceof ListEntries listEntries) {
        onListEntries(call, listEntries);
      } else if (request instanceof CheckTombstone check) {
        onCheckTombstone(call, check);
      } else if (request instanceof SettleTombstone settle) {
        onSettleTombstone(call, settle);
      } else {
        throw new IllegalStateException("no handler for " + request.getClass().getName());
      }
    } catch (CorruptRecordException e) {
      answer(call, new Unavailable("the stored record of this key is unreadable"
          + " (quarantined until a peer's record replaces it)"));
    }
    return this;
  }

  private static String describe(StoreRequest request) {
    return request.getClass().getSimpleName()
        + (request instanceof ReplicaProtocol.KeyRequest keyed ? " of key [" + keyed.key() + "]" : "");
  }

  private void answer(Call call, Answer answer) {
    call.replyTo().tell(new Reply(name, call.round(), answer));
  }

  private void onReadVersion(Call call, ReadVersion request) {
    if (!incarnation.isReady()) {
      answer(call, notReady());
      return;
    }
    Optional<Record> held = visible(request.key());
    answer(call, new VersionHeld(stamp(), Record.versionOf(held), Record.digestOf(held)));
  }

  private void onRead(Call call, Read request) {
    if (!incarnation.isReady()) {
      answer(call, notReady());
      return;
    }
    answer(call, new RecordHeld(stamp(), visible(request.key())));
  }

  private void onApply(Call call, Apply request) {
    if (isTooOld(request.stamp())) {
      // A record that waited in some queue, retry or mailbox for longer than max-message-age
      // is not applied: only fresh messages may bring values back (docs/design.md, "Convergence").
      stats.staleMessageIgnored();
      Optional<Record> held = storage.get(request.key());
      answer(call, new Applied(stamp(), Record.versionOf(held), Record.digestOf(held)));
      return;
    }
    Optional<String> refused = alarm.refusal(request.record().isTombstone());
    if (refused.isPresent()) {
      answer(call, new Unavailable(refused.get()));
      return; // not applied: the admitted weight is released by onAdmitted
    }
    queued.add(new QueuedApply(call, request, admittedWeight));
    admittedWeight = 0; // released once the batch is answered
    if (queued.size() == 1) {
      getContext().getSelf().tell(Flush.INSTANCE);
    }
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
      refused.ifPresent(reason -> answer(queuedApply, new Unavailable(reason)));
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
        answer(queuedApply, new Unavailable(reason));
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
      answer(taken.get(i), incarnation.isReady() ? new Applied(stamp, now.version(), now.digest()) : notReady());
    }
    return this;
  }

  /** Releases a queued apply's admitted weight, then answers it: its caller finds the bound freed. */
  private void answer(QueuedApply queuedApply, Answer answer) {
    if (queuedApply.weight() > 0) {
      admission.release(queuedApply.weight());
    }
    answer(queuedApply.call(), answer);
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
  private void onListEntries(Call call, ListEntries request) {
    if (!scans.tryAcquire()) {
      answer(call, new Entries(stamp(), List.of(), true));
      return;
    }
    Storage.Snapshot snapshot;
    try {
      snapshot = storage.snapshot();
    } catch (RuntimeException e) {
      scans.release();
      throw e;
    }
    int limit = Math.min(request.limit(), ENTRIES_MAX);
    Set<Integer> wanted = Set.copyOf(request.buckets());
    Stamp stamp = stamp(); // the clock covers the snapshot, taken after it observed the request
    java.util.concurrent.CompletableFuture.runAsync(() -> {
      try (snapshot) {
        answer(call, entriesOf(snapshot, wanted, limit, request.includeSettled(), stamp));
      } catch (RuntimeException e) {
        answer(call, new Entries(stamp, List.of(), true)); // the storage closed meanwhile
      } finally {
        scans.release();
      }
    }, scanExecutor);
  }

  /** The entries of {@code buckets} in a snapshot, in key order, at most {@code limit}. */
  static Entries entriesOf(
      Storage.Snapshot snapshot, Set<Integer> buckets, int limit, boolean includeSettled, Stamp stamp) {
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
            return new Entries(stamp, entries, true);
          }
          entries.add(new Entry(record.key(), version, record.record().digest()));
        }
      }
      if (page.size() < SCAN_PAGE) {
        return new Entries(stamp, entries, false);
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

  private void onCheckTombstone(Call call, CheckTombstone request) {
    Optional<Record> held = heldOrEmptyIfCorrupt(request.key());
    boolean holds = incarnation.isReady() && held.isPresent() && held.get().isTombstone()
        && held.get().version().equals(request.version());
    answer(call, new TombstoneHeld(stamp(), holds));
  }

  /** Answers whether the tombstone is settled here now. */
  private void onSettleTombstone(Call call, SettleTombstone request) {
    answer(call, new TombstoneHeld(stamp(), settle(request)));
  }

  private boolean settle(SettleTombstone request) {
    Optional<Record> held = heldOrEmptyIfCorrupt(request.key());
    if (held.isEmpty() || !held.get().isTombstone() || !held.get().version().equals(request.version())) {
      return false; // superseded
    }
    if (isSettled(request.key(), request.version())) {
      return true; // settled already
    }
    SettledTombstone tombstone = new SettledTombstone(request.key(), request.version(), System.currentTimeMillis());
    try {
      storage.putSettled(tombstone);
    } catch (StorageFullException e) {
      diskFull(e);
      return false; // not settled: the sweeper asks again later
    }
    settled.put(request.key(), tombstone);
    unsettledTombstones.remove(request.key());
    buckets.toggle(request.key(), held.get()); // out of the hashes: it now equals absence
    return true;
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

  private Unavailable notReady() {
    return new Unavailable("replica is " + incarnation.state().name().toLowerCase(java.util.Locale.ROOT)
        + NOT_READY);
  }

  private static final String NOT_READY = ": a new data directory counts toward no quorum until it has caught up";

  /**
   * Whether an Apply's unavailable answer is the one a replica that is not ready gives after
   * applying the record all the same; any other (a refused clock, say) means it was not applied.
   */
  public static boolean appliedWhileNotReady(Unavailable answer) {
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
