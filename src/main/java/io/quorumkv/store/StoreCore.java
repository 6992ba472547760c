package io.quorumkv.store;

import io.quorumkv.faults.DeliberateBug;
import io.quorumkv.store.ReplicaProtocol.Accept;
import io.quorumkv.store.ReplicaProtocol.Accepted;
import io.quorumkv.store.ReplicaProtocol.Answer;
import io.quorumkv.store.ReplicaProtocol.Commit;
import io.quorumkv.store.ReplicaProtocol.FastAccept;
import io.quorumkv.store.ReplicaProtocol.Fenced;
import io.quorumkv.store.ReplicaProtocol.KeyRequest;
import io.quorumkv.store.ReplicaProtocol.PaxosRequest;
import io.quorumkv.store.ReplicaProtocol.Preempted;
import io.quorumkv.store.ReplicaProtocol.Prepare;
import io.quorumkv.store.ReplicaProtocol.Promised;
import io.quorumkv.store.ReplicaProtocol.RecordAndProposal;
import io.quorumkv.store.ReplicaProtocol.Applied;
import io.quorumkv.store.ReplicaProtocol.Apply;
import io.quorumkv.store.ReplicaProtocol.Cause;
import io.quorumkv.store.ReplicaProtocol.Buckets;
import io.quorumkv.store.ReplicaProtocol.CheckTombstone;
import io.quorumkv.store.ReplicaProtocol.Entries;
import io.quorumkv.store.ReplicaProtocol.Entry;
import io.quorumkv.store.ReplicaProtocol.GetBuckets;
import io.quorumkv.store.ReplicaProtocol.ListEntries;
import io.quorumkv.store.ReplicaProtocol.Read;
import io.quorumkv.store.ReplicaProtocol.ReadVersion;
import io.quorumkv.store.ReplicaProtocol.RecordHeld;
import io.quorumkv.store.ReplicaProtocol.SettleTombstone;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.store.ReplicaProtocol.StoreRequest;
import io.quorumkv.store.ReplicaProtocol.TombstoneHeld;
import io.quorumkv.store.ReplicaProtocol.Unavailable;
import io.quorumkv.store.ReplicaProtocol.VersionHeld;
import io.quorumkv.version.HybridLogicalClock;
import io.quorumkv.version.Version;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * A replica's request handling as pure code: every {@link StoreRequest} of the
 * {@link ReplicaProtocol} answered from its {@link Storage}, group commit, the tombstone
 * bookkeeping and the purge rule (docs/design.md, "Request flow" and "Convergence"). It has no
 * thread, timer or mailbox of its own: {@link StoreActor} drives it in a replica, and the
 * deterministic simulation drives it directly, as the coordinators drive the rounds.
 *
 * <p>{@code C} is whatever the driver needs to answer a caller (the actor's {@code Call}); the
 * core hands it back through the {@link Outbox}, with the answer.
 *
 * <p>Group commit: an {@link Apply} is not written at once but queued, and the first queued
 * Apply asks the driver for a {@link #flush()} behind everything already waiting. So all
 * Applies that arrived together become one storage batch and (with {@code fsync = always})
 * one sync, and only then are they answered. Reads answer from storage, which never shows a
 * queued record: a replica answers only from what it durably holds.
 *
 * <p>Not thread-safe: one driver thread at a time, except for the listing scans it hands out.
 */
public final class StoreCore<C> {

  /** What the core asks of its driver. */
  public interface Outbox<C> {
    /** Answer {@code caller}; may be called from a scan's thread. */
    void answer(C caller, Answer answer);

    /** Call {@link #flush()} once what is already waiting has been handled. */
    void flushSoon();

    /**
     * Takes a scan slot, then calls {@code prepare} at once (it takes the snapshot) and runs the
     * scan it returns (which answers by itself) on any thread, freeing the slot when it ends or
     * when {@code prepare} throws. False, with nothing called, when every slot is taken: the
     * listing is then answered as truncated.
     */
    boolean startScan(java.util.function.Supplier<Runnable> prepare);

    /**
     * As {@link #startScan}, for a page of a client's listing: from slots of their own, so
     * listings never starve anti-entropy's scans, nor the other way round.
     */
    default boolean startListPage(java.util.function.Supplier<Runnable> prepare) {
      return startScan(prepare);
    }
  }

  /**
   * When settled tombstones may be purged (docs/design.md, "Tombstones"), and how old a key's
   * promise and committed ballot must be before its Paxos state may be forgotten: max-message-age
   * plus the skew margin, after which no message carrying a lower ballot, and no client write's
   * apply below them, can still be taken (docs/conditional-writes.md, "Bounded state").
   *
   * @param settledFor how long a tombstone stays settled before it may be purged: max-message-age
   *     plus the skew margin, so no copy of a record read before it settled (a copy is stamped no
   *     later than its record was read, by a clock up to the offset ahead) can still be taken
   */
  public record PurgeRule(Duration grace, Duration settledFor, Duration checkInterval, BooleanSupplier clockTrusted,
      Duration paxosForgetAfter) {

    /** Paxos state forgotten after the tombstone grace (longer than needed, and safe). */
    public PurgeRule(Duration grace, Duration settledFor, Duration checkInterval, BooleanSupplier clockTrusted) {
      this(grace, settledFor, checkInterval, clockTrusted, grace);
    }
  }

  /** A batch holds at most this many applies, and at most {@link #BATCH_BYTES_MAX} of values. */
  public static final int BATCH_COUNT_MAX = 1024;
  static final long BATCH_BYTES_MAX = 16L << 20;
  /** The metadata entry the disk probe writes: one small synced write a second while the disk is full. */
  static final String WRITE_PROBE = "write-probe";
  private static final int SCAN_PAGE = 1024;
  /** The most entries one listing answers, whatever the caller asks for. */
  public static final int ENTRIES_MAX = 10_000;
  /** The refusal source of requests refused here rather than at the routes. */
  static final String STORE_SOURCE = "store";
  private static final String NOT_READY = ": a new data directory counts toward no quorum until it has caught up";

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(StoreCore.class);

  /**
   * A request that writes (an apply, or a Paxos message) waiting for its batch, and the weight to
   * release once it is answered (0: not admitted).
   */
  private record QueuedWrite<C>(C caller, KeyRequest request, long weight) {
    Optional<Record> record() {
      return StoreAdmission.recordOf(request);
    }
  }

  /** Keys with Paxos state tracked in memory at most (about 10 MB); beyond, every apply looks its key up. */
  static final int PAXOS_KEYS_TRACKED = 100_000;

  /** Keys to settle at most (fenced copies waiting for a Paxos round); beyond, the next fenced copy asks again. */
  static final int TO_SETTLE_MAX = 10_000;

  private final String name;
  private final long replicaId;
  private final Storage storage;
  private final HybridLogicalClock clock;
  private final ReplicaStats stats;
  private final Incarnation incarnation;
  private final PurgeRule purgeRule;
  private final StoreAdmission admission;
  private final StorageAlarm alarm;
  private final Outbox<C> outbox;
  /** The wall clock settlement and purging read; {@code System::currentTimeMillis} in a replica. */
  private final LongSupplier nowMillis;
  private final long maxMessageAgeMillis;
  private final List<QueuedWrite<C>> queued = new ArrayList<>();
  /** Keys whose copies this replica fenced: a Paxos round brings it the record its peers hold. */
  private final java.util.LinkedHashSet<String> toSettle = new java.util.LinkedHashSet<>();
  /** The ballot of every proposal this replica holds, by key: the proposals left to settle. */
  private final Map<String, Version> proposals = new HashMap<>();
  /** Keys whose Paxos state could not be decoded at start (bit rot): never served as if it held nothing. */
  private final java.util.Set<String> corruptPaxos = new java.util.HashSet<>();
  /** The keys with Paxos state, while there are at most {@link #PAXOS_KEYS_TRACKED}. */
  private final java.util.Set<String> paxosKeys = new java.util.HashSet<>();
  private boolean paxosKeysOverflowed;
  /** Where the next {@link #keysToForget} scan starts. */
  private String forgetCursor = "";
  private final BucketHashes buckets;
  private final Map<String, SettledTombstone> settled = new HashMap<>();
  private final Map<String, Version> unsettledTombstones = new HashMap<>();
  /**
   * The values with a TTL held here, by key, without their bytes: each settles as a tombstone once
   * it has expired for every reader (docs/listing-watch-ttl.md, "Expiring keys").
   */
  private final Map<String, Expiring> expiring = new HashMap<>();
  /** The same, by expiry: the sweeper is offered those due first, from where it left off. */
  private final java.util.TreeSet<Expiring> byExpiry = new java.util.TreeSet<>(
      java.util.Comparator.comparingLong(Expiring::expiresAtMillis).thenComparing(Expiring::key));
  /** The last expired value offered to the sweeper: the next offer starts after it (none: from the first). */
  private Expiring offeredLast;
  private final boolean readsSeeQueued; // DeliberateBug.UNSYNCED_READS
  private final boolean purgeOnTimer; // DeliberateBug.TIMER_PURGE

  /**
   * Rebuilds the bucket hashes and the tombstone bookkeeping from {@code storage} (one full scan).
   *
   * @param name the name this replica's coordinators know it by (the node id)
   * @param replicaId this replica's random 64-bit id
   */
  public StoreCore(
      String name, long replicaId, Storage storage, HybridLogicalClock clock, ReplicaStats stats,
      Duration maxMessageAge, Incarnation incarnation, PurgeRule purgeRule, StoreAdmission admission,
      StorageAlarm alarm, Set<DeliberateBug> bugs, LongSupplier nowMillis, Outbox<C> outbox) {
    this.name = name;
    this.replicaId = replicaId;
    this.storage = storage;
    this.clock = clock;
    this.stats = stats;
    this.incarnation = incarnation;
    this.purgeRule = purgeRule;
    this.admission = admission;
    this.alarm = alarm;
    this.outbox = outbox;
    this.nowMillis = nowMillis;
    this.maxMessageAgeMillis = maxMessageAge.toMillis();
    this.readsSeeQueued = bugs.contains(DeliberateBug.UNSYNCED_READS);
    this.purgeOnTimer = bugs.contains(DeliberateBug.TIMER_PURGE);
    for (SettledTombstone tombstone : storage.allSettled()) {
      settled.put(tombstone.key(), tombstone);
    }
    // One full scan at start: settled tombstones count as absence; the others are remembered.
    this.buckets = BucketHashes.rebuild(storage, entry -> {
      if (isSettled(entry.key(), entry.record().version())) {
        return false;
      }
      track(entry.key(), entry.record());
      return true;
    });
    alarm.measured(Math.max(0, storage.bytesOnDisk()));
    for (String from = "";;) {
      List<String> keys = storage.paxosKeys(from, SCAN_PAGE);
      for (String key : keys) {
        try {
          PaxosState state = storage.paxos(key);
          state.accepted().ifPresent(proposal -> proposals.put(key, proposal.ballot()));
          tracked(key, state);
        } catch (CorruptRecordException e) {
          // Unreadable: it may hold a proposal, so reads of the key are answered unavailable
          // (as every Paxos message and apply of the key is), and its applies look it up.
          corruptPaxos.add(key);
          track(key);
        }
      }
      if (keys.size() < SCAN_PAGE) {
        break;
      }
      from = keys.get(keys.size() - 1) + "\0";
    }
  }

  /** {@link DeliberateBug#UNSYNCED_READS}: the driver calls {@link #lateFlush()} on a timer instead of flushing. */
  public boolean flushesLate() {
    return readsSeeQueued;
  }

  /**
   * Handles a request that passed the {@link StoreAdmission} bound with {@code weight} (0: not
   * admitted through it). A read's weight is released as it is served; an apply's just before it
   * is answered (once its batch is written), so a caller that hears the answer finds the bound
   * already freed.
   */
  public void handle(C caller, StoreRequest request, long weight) {
    if (!(request instanceof Apply) && !(request instanceof PaxosRequest)) {
      release(weight);
      handleNow(caller, request);
      return;
    }
    boolean queued = false;
    try {
      queued = admitClock(caller, request) && queue(caller, (KeyRequest) request, weight);
    } catch (CorruptRecordException e) {
      outbox.answer(caller, unreadable());
    } finally {
      if (!queued) {
        release(weight); // answered at once (refused, too old, unreadable) or failed: not queued
      }
    }
  }

  /** Handles a request that did not pass through the admission bound. */
  public void handle(C caller, StoreRequest request) {
    handle(caller, request, 0);
  }

  private void release(long weight) {
    if (weight > 0) {
      admission.release(weight);
    }
  }

  /**
   * Answers one request, after its clock readings are admitted. A record of the key that cannot
   * be decoded makes the answer unavailable (never absent, which could break quorum
   * intersection), and the replica lives on.
   */
  private void handleNow(C caller, StoreRequest request) {
    if (!admitClock(caller, request)) {
      return;
    }
    try {
      if (request instanceof ReadVersion readVersion) {
        outbox.answer(caller, readVersion(readVersion));
      } else if (request instanceof Read read) {
        outbox.answer(caller, incarnation.isReady() ? read(read.key(), read.cause()) : notReady());
      } else if (request instanceof GetBuckets) {
        outbox.answer(caller, new Buckets(stamp(), buckets.snapshot()));
      } else if (request instanceof ListEntries listEntries) {
        listEntries(caller, listEntries);
      } else if (request instanceof ReplicaProtocol.ListPage listPage) {
        if (incarnation.isReady()) {
          listPage(caller, listPage);
        } else {
          outbox.answer(caller, notReady());
        }
      } else if (request instanceof CheckTombstone check) {
        outbox.answer(caller, new TombstoneHeld(stamp(), holds(check)));
      } else if (request instanceof SettleTombstone settle) {
        outbox.answer(caller, new TombstoneHeld(stamp(), settle(settle)));
      } else if (request instanceof ReplicaProtocol.HoldsProposalsBefore before) {
        boolean holds = !corruptPaxos.isEmpty()
            || proposals.values().stream().anyMatch(ballot -> ballot.hlc() < before.ballotHlc());
        outbox.answer(caller, new ReplicaProtocol.PaxosHeld(stamp(), holds));
      } else if (request instanceof ReplicaProtocol.CheckPaxos check) {
        outbox.answer(caller, new ReplicaProtocol.PaxosHeld(stamp(),
            !incarnation.isReady() || storage.paxos(check.key()).accepted().isPresent()));
      } else if (request instanceof ReplicaProtocol.ForgetPaxos forget) {
        outbox.answer(caller, new ReplicaProtocol.PaxosHeld(stamp(), !forget(forget.key())));
      } else {
        throw new IllegalStateException("no handler for " + request.getClass().getName());
      }
    } catch (CorruptRecordException e) {
      outbox.answer(caller, unreadable());
    }
  }

  /** Clock rule 1, kept here too so no path around the endpoint's checks reaches the clock. */
  private boolean admitClock(C caller, StoreRequest request) {
    if (clock.admit(STORE_SOURCE, () -> describe(request), request.clockReadings())) {
      return true;
    }
    outbox.answer(caller, new Unavailable(
        "clock reading refused (beyond max-clock-offset, or the clock's next mark cannot be recorded)"));
    return false;
  }

  private static Unavailable unreadable() {
    return new Unavailable("the stored record of this key is unreadable"
        + " (quarantined until a peer's record replaces it)");
  }

  private static String describe(StoreRequest request) {
    return request.getClass().getSimpleName()
        + (request instanceof ReplicaProtocol.KeyRequest keyed ? " of key [" + keyed.key() + "]" : "");
  }

  /**
   * The version held, or the key's promise or committed ballot when higher: a write that queries
   * after a promise or a commit picks a version above both (docs/conditional-writes.md).
   */
  private Answer readVersion(ReadVersion request) {
    if (!incarnation.isReady()) {
      return notReady();
    }
    Optional<Record> held = visible(request.key());
    PaxosState state = paxosOf(request.key());
    Version fences = Version.max(state.promised(), state.committed());
    if (fences.isAfter(Record.versionOf(held))) {
      return new VersionHeld(stamp(), fences, Record.TOMBSTONE_DIGEST);
    }
    return new VersionHeld(stamp(), Record.versionOf(held), Record.digestOf(held));
  }

  /**
   * The record held, and the accepted proposal when there is one (it is not served before it is
   * settled). For anti-entropy, a settled expired value as stored: the peer listed it (a pull
   * lists settled entries), and unlike a settled tombstone it cannot be rebuilt from its entry;
   * it is expired for every reader, so handing it over changes no answer.
   */
  private Answer read(String key, Cause cause) {
    Optional<Record> held = visible(key);
    if (held.isEmpty() && cause == Cause.ANTI_ENTROPY) {
      held = storage.get(key).filter(Record::hasTtl);
    }
    if (corruptPaxos.contains(key)) {
      throw new CorruptRecordException(key, "the Paxos state of key [" + key + "] is unreadable");
    }
    if (proposals.containsKey(key)) {
      PaxosState state = storage.paxos(key);
      if (state.accepted().isPresent()) {
        Proposal proposal = state.accepted().get();
        return new RecordAndProposal(stamp(), held, proposal,
            promiseAbove(state, held, held.filter(Record::hasTtl).isPresent()
                || proposal.record().filter(Record::hasTtl).isPresent()));
      }
    }
    return new RecordHeld(stamp(), held,
        held.filter(Record::hasTtl).isPresent() ? promiseAbove(paxosOf(key), held, true) : Optional.empty());
  }

  /**
   * The key's promise when it lies above both its committed ballot and the record held, reported
   * only {@code besideATtl} (the record or the accepted proposal is a value with a TTL): a
   * conditional write on such a value may be in flight, and a reader that finds the value expired
   * must settle first. A promise at or below the committed ballot says no more: a round at that
   * ballot committed, after which such a write was chosen or never will be
   * (docs/listing-watch-ttl.md, "Conditions on an expiring value", revision 8).
   */
  static Optional<Version> promiseAbove(PaxosState state, Optional<Record> held, boolean besideATtl) {
    Version promise = state.promised();
    return besideATtl && promise.isAfter(state.committed()) && promise.isAfter(Record.versionOf(held))
        ? Optional.of(promise) : Optional.empty();
  }

  private PaxosState paxosOf(String key) {
    return mayHavePaxosState(key) ? storage.paxos(key) : PaxosState.NONE;
  }

  /**
   * Whether {@code key} may have Paxos state: false only when it is known to have none, so the
   * common case (a key never written conditionally) costs no lookup. The keys with state are
   * tracked in memory up to {@link #PAXOS_KEYS_TRACKED}; past that, every key may have some.
   */
  private boolean mayHavePaxosState(String key) {
    return paxosKeysOverflowed || paxosKeys.contains(key);
  }

  /** Keeps the tracked keys in step with a state written for {@code key}. */
  private void tracked(String key, PaxosState state) {
    if (state.isNone()) {
      paxosKeys.remove(key);
    } else {
      track(key);
    }
  }

  /** Remembers that {@code key} has (or may have) Paxos state. */
  private void track(String key) {
    if (!paxosKeysOverflowed) {
      paxosKeys.add(key);
      if (paxosKeys.size() > PAXOS_KEYS_TRACKED) {
        paxosKeysOverflowed = true; // until a restart, which counts again
        paxosKeys.clear();
      }
    }
  }

  /** Queues a write for the next batch; false when it was answered at once instead. */
  private boolean queue(C caller, KeyRequest request, long weight) {
    if (request instanceof PaxosRequest paxos) {
      if (!incarnation.isReady() && !(paxos instanceof Commit)) {
        outbox.answer(caller, notReady()); // a replaced replica lost its promises: it takes part in no round yet
        return false;
      }
      if (isTooOld(paxos.stamp()) || isTooOld(new Stamp(0, paxos.ballot().hlc()))) {
        stats.staleMessageIgnored();
        outbox.answer(caller, new Unavailable("Paxos message older than max-message-age"));
        return false;
      }
    } else if (isTooOld(request.stamp())) {
      // A record that waited in some queue, retry or mailbox for longer than max-message-age
      // is not applied: only fresh messages may bring values back (docs/design.md, "Convergence").
      stats.staleMessageIgnored();
      Optional<Record> held = storage.get(request.key());
      Optional<Version> fence = PaxosRules.fenceFor((Apply) request, paxosOf(request.key()));
      // Below a fence, never "holds newer" (docs/conditional-writes.md, "Rules at a replica").
      outbox.answer(caller, fence.isPresent() ? new Fenced(stamp(), fence.get())
          : new Applied(stamp(), Record.versionOf(held), Record.digestOf(held)));
      return false;
    }
    QueuedWrite<C> write = new QueuedWrite<>(caller, request, weight);
    Optional<String> refused = refusal(write);
    if (refused.isPresent()) {
      outbox.answer(caller, new Unavailable(refused.get()));
      return false;
    }
    queued.add(write);
    if (queued.size() == 1) {
      outbox.flushSoon();
    }
    return true;
  }

  /**
   * Writes the queued applies as one batch (at most {@link #BATCH_COUNT_MAX} of them and
   * {@link #BATCH_BYTES_MAX} of values; the rest go in the next batch, right behind whatever
   * arrived meanwhile) and answers them. Under {@link DeliberateBug#UNSYNCED_READS} it does
   * nothing: only {@link #lateFlush()} writes.
   */
  public void flush() {
    if (!readsSeeQueued) {
      writeBatch();
    }
  }

  /** {@link DeliberateBug#UNSYNCED_READS}: the only time queued applies are written. */
  public void lateFlush() {
    if (!queued.isEmpty()) {
      writeBatch();
    }
  }

  private void writeBatch() {
    int size = 0;
    long bytes = 0;
    while (size < queued.size() && size < BATCH_COUNT_MAX && (size == 0 || bytes < BATCH_BYTES_MAX)) {
      Optional<Record> record = queued.get(size).record();
      bytes += record.filter(r -> !r.isTombstone()).map(r -> r.value().length()).orElse(0);
      size++;
    }
    List<QueuedWrite<C>> taken = new ArrayList<>(queued.subList(0, size));
    queued.subList(0, size).clear();
    if (!queued.isEmpty()) {
      outbox.flushSoon();
    }
    // Queued before the disk filled (or the quota was reached): refused now, not written.
    taken.removeIf(write -> {
      Optional<String> refused = refusal(write);
      refused.ifPresent(reason -> answer(write, new Unavailable(reason)));
      return refused.isPresent();
    });
    if (taken.isEmpty()) {
      return;
    }
    Stamp stamp = stamp(); // the clock observed every request of the batch when it was admitted
    BatchPlan plan = plan(taken, stamp);
    long began = System.nanoTime();
    List<ApplyOutcome> outcomes;
    try {
      outcomes = plan.records().isEmpty() && plan.paxos().isEmpty()
          ? List.of() : storage.applyIfNewer(plan.records(), plan.paxos());
    } catch (StorageFullException e) {
      diskFull(e);
      // Unavailable, never "not applied": the batch may still surface from the log when the
      // store recovers. A coordinator counts no ack here, and its apply round is indeterminate.
      String reason = alarm.refusal(false).orElse("storage full");
      for (QueuedWrite<C> write : taken) {
        answer(write, new Unavailable(reason));
      }
      return;
    }
    stats.committed(System.nanoTime() - began);
    plan.paxos().forEach((key, state) -> {
      if (state.accepted().isPresent()) {
        proposals.put(key, state.accepted().get().ballot());
      } else {
        proposals.remove(key);
      }
      tracked(key, state);
    });
    for (int i = 0; i < taken.size(); i++) {
      QueuedWrite<C> write = taken.get(i);
      if (plan.decided()[i] != null) {
        answer(write, plan.decided()[i]);
        continue;
      }
      String key = write.request().key();
      Record sent = write.record().orElseThrow();
      ApplyOutcome outcome = outcomes.get(plan.recordIndex()[i]);
      if (outcome.changed()) {
        accountFor(key, outcome);
      }
      Record now = outcome.held();
      if (now.version().equals(sent.version()) && now.digest() != sent.digest()) {
        stats.digestConflict(key, now.version(), "apply on " + name);
      }
      // Not ready: the record is kept, but this replica does not count toward W yet.
      answer(write, incarnation.isReady() ? new Applied(stamp, now.version(), now.digest()) : notReady());
    }
  }

  /**
   * A batch decided: the records to apply, the Paxos states to write, and for each queued
   * write either its answer ({@code decided}) or the index of its record's outcome.
   */
  private record BatchPlan(List<KeyedRecord> records, Map<String, PaxosState> paxos, Answer[] decided,
      int[] recordIndex) {}

  /**
   * Decides each queued write in arrival order against the key's record and Paxos state as the
   * writes before it in the batch leave them (docs/conditional-writes.md, "Rules at a replica").
   * Nothing is answered before the batch is durable, so a decision never rests on state a crash
   * could take back from someone who heard of it.
   */
  private BatchPlan plan(List<QueuedWrite<C>> taken, Stamp stamp) {
    Map<String, Optional<Record>> records = new HashMap<>();
    Map<String, PaxosState> states = new HashMap<>();
    BatchPlan plan = new BatchPlan(new ArrayList<>(taken.size()), new java.util.LinkedHashMap<>(),
        new Answer[taken.size()], new int[taken.size()]);
    // Applies of keys without Paxos state in this batch: no read needed (storage compares
    // versions itself), unless a Paxos message of the same key follows them.
    Map<String, List<Record>> unread = new HashMap<>();
    for (int i = 0; i < taken.size(); i++) {
      KeyRequest request = taken.get(i).request();
      String key = request.key();
      if (request instanceof Apply apply && !states.containsKey(key) && !mayHavePaxosState(key)) {
        plan.recordIndex()[i] = plan.records().size();
        plan.records().add(new KeyedRecord(key, apply.record()));
        if (records.containsKey(key)) {
          records.put(key, PaxosRules.newer(records.get(key), apply.record()));
        } else {
          unread.computeIfAbsent(key, k -> new ArrayList<>()).add(apply.record());
        }
        continue;
      }
      Optional<Record> held;
      PaxosState state;
      try {
        // A corrupt record is replaced by any copy, but no promise or accept is given over it:
        // it may have been the newest record of the key.
        boolean copy = request instanceof Apply || request instanceof Commit;
        if (records.containsKey(key)) {
          held = records.get(key);
        } else {
          held = copy ? heldOrEmptyIfCorrupt(key) : storage.get(key);
          for (Record earlier : unread.getOrDefault(key, List.of())) {
            held = PaxosRules.newer(held, earlier);
          }
        }
        state = states.containsKey(key) ? states.get(key) : storage.paxos(key);
      } catch (CorruptRecordException e) {
        plan.decided()[i] = unreadable();
        continue;
      }
      records.put(key, held);
      states.put(key, state);
      if (request instanceof Apply apply) {
        Optional<Version> fence = PaxosRules.fenceFor(apply, state);
        if (fence.isPresent()) {
          if (held.isPresent() && PaxosRules.sameRecord(held.get(), apply.record())) {
            plan.decided()[i] = new Applied(stamp, held.get().version(), held.get().digest());
          } else {
            plan.decided()[i] = new Fenced(stamp, fence.get());
            // A client write and a read's write-back settle the key themselves; a copy's sender
            // does not, so this replica does, to catch up with the round it promised.
            boolean copy = apply.cause() == Cause.HINT || apply.cause() == Cause.ANTI_ENTROPY
                || apply.cause() == Cause.REPAIR;
            if (copy && toSettle.size() < TO_SETTLE_MAX) {
              toSettle.add(key);
            }
          }
          continue;
        }
        plan.recordIndex()[i] = plan.records().size();
        plan.records().add(new KeyedRecord(key, apply.record()));
        records.put(key, PaxosRules.newer(held, apply.record()));
      } else if (request instanceof Prepare prepare) {
        if (PaxosRules.grantsPrepare(held, state, prepare.ballot())) {
          plan.decided()[i] = new Promised(stamp, held, state.committed(), state.accepted());
          change(plan, states, key, state.withPromise(prepare.ballot()));
        } else {
          plan.decided()[i] = new Preempted(stamp, PaxosRules.highest(held, state));
        }
      } else if (request instanceof Accept accept) {
        if (PaxosRules.takesAccept(held, state, accept.ballot(), accept.record())) {
          plan.decided()[i] = new Accepted(stamp, accept.ballot());
          change(plan, states, key, state.withAccepted(new Proposal(accept.ballot(), accept.record(), false)));
        } else {
          plan.decided()[i] = new Preempted(stamp, PaxosRules.highest(held, state));
        }
      } else if (request instanceof FastAccept fast) {
        if (PaxosRules.takesFastAccept(held, state, fast.ballot(), fast.expected(),
            HybridLogicalClock.millisOf(clock.peek()), clock.maxOffsetMillis())) {
          plan.decided()[i] = new Accepted(stamp, fast.ballot());
          change(plan, states, key,
              state.withAccepted(new Proposal(fast.ballot(), Optional.of(fast.record()), true)));
        } else {
          plan.decided()[i] = new Preempted(stamp, PaxosRules.highest(held, state));
        }
      } else if (request instanceof Commit commit) {
        // A chosen record passes the fences; a replica not ready keeps it, but takes no Paxos state.
        if (incarnation.isReady()) {
          change(plan, states, key, state.withCommit(commit.ballot()));
        }
        if (commit.record().isEmpty()) {
          // The empty value was chosen: the ballot is committed, no record changes.
          plan.decided()[i] = new Applied(stamp, Record.versionOf(held), Record.digestOf(held));
          continue;
        }
        plan.recordIndex()[i] = plan.records().size();
        plan.records().add(new KeyedRecord(key, commit.record().get()));
        records.put(key, PaxosRules.newer(held, commit.record()));
      } else {
        throw new IllegalStateException("not a write: " + request.getClass().getName());
      }
    }
    return plan;
  }

  private static void change(BatchPlan plan, Map<String, PaxosState> states, String key, PaxosState next) {
    states.put(key, next);
    plan.paxos().put(key, next);
  }

  /** Why a write may not be taken now (a full disk, the quota), if it may not. */
  private Optional<String> refusal(QueuedWrite<?> write) {
    // A commit, like a delete, only settles what was already accepted: taken over the quota.
    boolean frees = write.request() instanceof Commit || write.record().map(Record::isTombstone).orElse(true);
    return alarm.refusal(frees);
  }

  /** Releases a queued write's admitted weight, then answers it: its caller finds the bound freed. */
  private void answer(QueuedWrite<C> write, Answer answer) {
    release(write.weight());
    outbox.answer(write.caller(), answer);
  }

  /** {@code fsync = periodic}: makes everything written so far durable. */
  public void sync() {
    unlessFull(storage::sync);
  }

  /**
   * The data directory's size against the quota, and, while the disk is full, one probe write
   * (RocksDB takes writes again once it has recovered, after room was made).
   */
  public void checkDisk() {
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
   * Lists entries from a snapshot taken now, scanned by the driver's scan (a listing visits
   * every record, so a replica scans off its store's thread). Past {@link #ENTRIES_MAX}
   * entries, or when the driver runs too many scans, the answer is truncated, which a round
   * counts as incomplete (it tries again, with other buckets first).
   */
  private void listEntries(C caller, ListEntries request) {
    int limit = Math.min(request.limit(), ENTRIES_MAX);
    Set<Integer> wanted = Set.copyOf(request.buckets());
    boolean started = outbox.startScan(() -> {
      Storage.Snapshot snapshot = storage.snapshot();
      Stamp stamp = stamp(); // the clock covers the snapshot, taken after it observed the request
      return () -> {
        try (snapshot) {
          outbox.answer(caller, entriesOf(snapshot, wanted, limit, request.includeSettled(), stamp));
        } catch (RuntimeException e) {
          outbox.answer(caller, new Entries(stamp, List.of(), true)); // the storage closed meanwhile
        }
      };
    });
    if (!started) {
      outbox.answer(caller, new Entries(stamp(), List.of(), true));
    }
  }

  /**
   * A page of a listing from a snapshot taken now, built off the store's thread as anti-entropy
   * listings are (docs/listing-watch-ttl.md). When the driver runs too many scans already, the
   * replica answers unavailable: the listing asks another one.
   */
  private void listPage(C caller, ReplicaProtocol.ListPage request) {
    boolean started = outbox.startListPage(() -> {
      Storage.Snapshot snapshot = storage.snapshot();
      Stamp stamp = stamp(); // the clock covers the snapshot, taken after it observed the request
      return () -> {
        try (snapshot) {
          outbox.answer(caller, ListPages.page(snapshot, request, stamp));
        } catch (RuntimeException e) {
          outbox.answer(caller, new Unavailable("the listing's snapshot failed: " + e.getMessage()));
        }
      };
    });
    if (!started) {
      outbox.answer(caller, new Unavailable("too many listings running here"));
    }
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
        // A settled tombstone, or a settled expired value: both equal absence.
        boolean settledTombstone = snapshot.settledVersion(record.key()).filter(version::equals).isPresent();
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
    track(key, outcome.held());
  }

  /** A value with a TTL held here, without its bytes. */
  private record Expiring(String key, Version version, long digest, long expiresAtMillis) {}

  /** Remembers {@code held} among the records left to settle: a tombstone, or a value with a TTL. */
  private void track(String key, Record held) {
    if (held.isTombstone()) {
      unsettledTombstones.put(key, held.version());
    } else {
      unsettledTombstones.remove(key);
    }
    Expiring before = expiring.remove(key);
    if (before != null) {
      byExpiry.remove(before);
    }
    if (held.hasTtl()) {
      Expiring now = new Expiring(key, held.version(), held.digest(), held.expiresAtMillis());
      expiring.put(key, now);
      byExpiry.add(now);
    }
  }

  /**
   * Whether a record that expires at {@code expiresAtMillis} ({@link Long#MAX_VALUE}: never) has
   * expired for every reader by this replica's clock: by twice max-clock-offset, the clock's mark
   * step and a second (every other clock then reads past the expiry too), so settling it, which
   * makes it absence here, changes no coordinator's answer.
   */
  private boolean expiredForEveryone(long expiresAtMillis) {
    long margin = 2 * clock.maxOffsetMillis() + HybridLogicalClock.millisOf(clock.markStep()) + 1_000L;
    return expiresAtMillis != Long.MAX_VALUE
        && HybridLogicalClock.millisOf(clock.peek()) >= expiresAtMillis + margin;
  }

  /** Whether {@code record} may settle: a tombstone, or a value {@link #expiredForEveryone}. */
  private boolean absentForEveryone(Record record) {
    return record.isTombstone() || expiredForEveryone(record.expiresAtMillis());
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
      for (QueuedWrite<C> write : queued) {
        if (write.request() instanceof Apply apply && apply.key().equals(key)
            && apply.record().version().compareTo(Record.versionOf(held)) > 0) {
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

  /**
   * Up to {@code limit} records to settle, the sweeper's work: values that expired for every
   * reader ({@link #expiredForEveryone}), up to half of them, taken in order of expiry from where
   * the last call left off (so values that cannot settle yet do not starve the others), then
   * tombstones not settled yet, older than {@code olderThanHlc}. An expired value settles as a
   * tombstone does.
   */
  public List<Entry> unsettledTombstones(int limit, long olderThanHlc) {
    List<Entry> found = new ArrayList<>(dueExpiredValues((limit + 1) / 2));
    for (Map.Entry<String, Version> tombstone : unsettledTombstones.entrySet()) {
      if (found.size() >= limit) {
        break;
      }
      if (tombstone.getValue().hlc() < olderThanHlc) {
        found.add(new Entry(tombstone.getKey(), tombstone.getValue(), Record.TOMBSTONE_DIGEST));
      }
    }
    return found;
  }

  /**
   * Up to {@code limit} values expired for every reader, in order of expiry after the one
   * offered last, wrapping round to the first: the due ones are a prefix of {@link #byExpiry}.
   */
  private List<Entry> dueExpiredValues(int limit) {
    List<Entry> due = new ArrayList<>();
    Iterable<Expiring> after = offeredLast == null ? List.of() : byExpiry.tailSet(offeredLast, false);
    Iterable<Expiring> upTo = offeredLast == null ? byExpiry : byExpiry.headSet(offeredLast, true);
    for (Iterable<Expiring> part : List.of(after, upTo)) {
      for (Expiring value : part) {
        if (due.size() >= limit || !expiredForEveryone(value.expiresAtMillis())) {
          break;
        }
        due.add(new Entry(value.key(), value.version(), value.digest()));
        offeredLast = value;
      }
    }
    return due;
  }

  /**
   * A tombstone does not settle while the key has Paxos state here: a proposal accepted before
   * the delete is compared against the tombstone, by version, until it is settled away, never
   * against "absent" (docs/conditional-writes.md, "Tombstones").
   */
  private boolean holds(CheckTombstone request) {
    Optional<Record> held = heldOrEmptyIfCorrupt(request.key());
    return incarnation.isReady() && held.isPresent() && absentForEveryone(held.get())
        && held.get().version().equals(request.version()) && storage.paxos(request.key()).isNone();
  }

  /**
   * Whether {@code key}'s Paxos state may be forgotten here: none, or no proposal and a promise
   * and committed ballot both older than the grace.
   */
  private boolean forgettable(PaxosState state) {
    long bound = clock.peek() - HybridLogicalClock.fromMillis(purgeRule.paxosForgetAfter().toMillis());
    return state.accepted().isEmpty() && state.promised().hlc() < bound && state.committed().hlc() < bound;
  }

  /** Drops {@code key}'s Paxos state if it may be forgotten; whether none is held now. */
  private boolean forget(String key) {
    PaxosState state = storage.paxos(key);
    if (state.isNone()) {
      return true;
    }
    if (!forgettable(state)) {
      return false;
    }
    try {
      storage.applyIfNewer(List.of(), Map.of(key, PaxosState.NONE));
    } catch (StorageFullException e) {
      diskFull(e);
      return false;
    }
    tracked(key, PaxosState.NONE);
    stats.paxosStateForgotten();
    return true;
  }

  /**
   * Up to {@code limit} keys whose Paxos state this replica could forget (see {@link #forget}),
   * from where the last call left off: the settle sweeper asks every replica about each first.
   */
  public List<String> keysToForget(int limit) {
    List<String> found = new ArrayList<>();
    List<String> keys = storage.paxosKeys(forgetCursor, SCAN_PAGE);
    String next = keys.size() < SCAN_PAGE ? "" : keys.get(keys.size() - 1) + "\0";
    for (String key : keys) {
      if (found.size() >= limit) {
        next = key; // the rest of this page next time
        break;
      }
      try {
        if (forgettable(storage.paxos(key))) {
          found.add(key);
        }
      } catch (CorruptRecordException e) {
        // Unreadable: left as it is.
      }
    }
    forgetCursor = next;
    return found;
  }

  /**
   * Up to {@code limit} keys this replica wants settled by a Paxos round: those whose copies it
   * fenced (taken from the list as they are handed out), then those whose proposal it accepted
   * under a ballot older than {@code olderThanHlc} (the proposal sweeper's work).
   */
  public List<String> keysToSettle(int limit, long olderThanHlc) {
    List<String> found = new ArrayList<>();
    java.util.Iterator<String> fenced = toSettle.iterator();
    while (found.size() < limit && fenced.hasNext()) {
      found.add(fenced.next());
      fenced.remove();
    }
    for (Map.Entry<String, Version> proposal : proposals.entrySet()) {
      if (found.size() >= limit) {
        break;
      }
      if (proposal.getValue().hlc() < olderThanHlc && !found.contains(proposal.getKey())) {
        found.add(proposal.getKey());
      }
    }
    return found;
  }

  /** Settles the tombstone here if it is still the one held; answers whether it is settled now. */
  private boolean settle(SettleTombstone request) {
    Optional<Record> held = heldOrEmptyIfCorrupt(request.key());
    if (held.isEmpty() || !absentForEveryone(held.get()) || !held.get().version().equals(request.version())) {
      return false; // superseded (or, for a value, not expired for every reader yet by this clock)
    }
    if (isSettled(request.key(), request.version())) {
      return true; // settled already
    }
    SettledTombstone tombstone = new SettledTombstone(request.key(), request.version(), nowMillis.getAsLong());
    try {
      storage.putSettled(tombstone);
    } catch (StorageFullException e) {
      diskFull(e);
      return false; // not settled: the sweeper asks again later
    }
    settled.put(request.key(), tombstone);
    unsettledTombstones.remove(request.key());
    Expiring wasExpiring = expiring.remove(request.key());
    if (wasExpiring != null) {
      byExpiry.remove(wasExpiring);
    }
    buckets.toggle(request.key(), held.get()); // out of the hashes: it now equals absence
    return true;
  }

  /**
   * Purges a settled tombstone once this replica's clock is past its version by the grace
   * (hint expiry + max-message-age + skew margin: no hint or message can still bring an older
   * value), and max-message-age plus the skew margin have passed here since it settled (no copy
   * of a record read before the settle can still be taken). A settled expired value is purged
   * alike, its grace counted from its expiry (copies of it, or older values, may travel until then).
   */
  public void purge() {
    if (!purgeRule.clockTrusted().getAsBoolean()) {
      return; // the purge rule reads this replica's clock: not while the clock fence holds
    }
    if (alarm.isDiskFull()) {
      return; // a purge is a write too
    }
    long clockMillis = HybridLogicalClock.millisOf(clock.peek());
    long now = nowMillis.getAsLong();
    List<SettledTombstone> due = new ArrayList<>();
    for (SettledTombstone tombstone : settled.values()) {
      if (clockMillis >= HybridLogicalClock.millisOf(tombstone.version().hlc()) + purgeRule.grace().toMillis()
          && now >= tombstone.settledAtMillis() + purgeRule.settledFor().toMillis()) {
        due.add(tombstone);
      }
    }
    if (purgeOnTimer) {
      unlessFull(() -> purgeUnsettled(clockMillis));
    }
    try {
      for (SettledTombstone tombstone : due) {
        Optional<Record> held = heldOrEmptyIfCorrupt(tombstone.key());
        if (held.filter(Record::hasTtl).filter(value -> value.version().equals(tombstone.version())
            && clockMillis < value.expiresAtMillis() + purgeRule.grace().toMillis()).isPresent()) {
          continue; // an expired value: its grace runs from its expiry
        }
        if (storage.deleteIfHeld(tombstone.key(), tombstone.version())) {
          stats.tombstonePurged();
        }
        storage.deleteSettled(tombstone.key());
        settled.remove(tombstone.key());
      }
    } catch (StorageFullException e) {
      diskFull(e); // the rest are purged on a later check
    }
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

  /**
   * A clean stop: queued applies were never acknowledged, so dropping them loses nothing anyone
   * was promised; everything written is synced and the stop recorded.
   */
  public void close() {
    try {
      storage.sync();
      ReplicaMetadata.markStoppedCleanly(storage);
    } catch (StorageFullException e) {
      // The next start counts this stop as a crash: it loses nothing, only the shortcut.
      log.warn("Could not record a clean stop: the disk is full");
    }
    storage.close();
    log.info("Storage closed");
  }
}
