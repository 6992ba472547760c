package io.quorumkv.store;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.quorumkv.store.ReplicaProtocol.Answer;
import io.quorumkv.store.ReplicaProtocol.Applied;
import io.quorumkv.store.ReplicaProtocol.Apply;
import io.quorumkv.store.ReplicaProtocol.Cause;
import io.quorumkv.store.ReplicaProtocol.Entries;
import io.quorumkv.store.ReplicaProtocol.ListEntries;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.store.ReplicaProtocol.Unavailable;
import io.quorumkv.version.HybridLogicalClock;
import io.quorumkv.version.Version;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.junit.Test;

/**
 * {@link StoreCore} driven by hand, with no actor: the admission weight of an apply is released
 * on every path (queued and written, refused, too old), and a listing that finds no scan slot is
 * answered truncated without a snapshot being taken.
 */
public class StoreCoreTest {

  private static final long OWN_ID = 7L;

  private final AtomicLong wallMillis = new AtomicLong(1_000_000L);
  private final HybridLogicalClock clock = new HybridLogicalClock(wallMillis::get, 0L);
  private final StoreAdmission admission = new StoreAdmission(100, 1 << 20);
  private final List<Answer> answers = new ArrayList<>();
  private int flushes;
  private boolean scanSlotFree = true;
  private int snapshots;

  private final MemoryStorage memory = new MemoryStorage();
  private final Storage storage = new CountingSnapshots(memory);

  private final StoreCore<String> core = new StoreCore<>("a", OWN_ID, storage, clock, new ReplicaStats(),
      Duration.ofMinutes(1), new Incarnation(OWN_ID, Incarnation.State.READY, List.of("b", "c"), state -> {}),
      new StoreCore.PurgeRule(Duration.ofHours(1), Duration.ofMinutes(1), Duration.ofHours(1), () -> true),
      admission, new StorageAlarm(StorageAlarm.NO_QUOTA), Set.of(), wallMillis::get, new StoreCore.Outbox<>() {
        @Override
        public void answer(String caller, Answer answer) {
          answers.add(answer);
        }

        @Override
        public void flushSoon() {
          flushes++;
        }

        @Override
        public boolean startScan(Supplier<Runnable> prepare) {
          if (!scanSlotFree) {
            return false;
          }
          prepare.get().run();
          return true;
        }
      });

  private Apply apply(String key, long stampMillis) {
    Version version = new Version(clock.tick(), OWN_ID);
    return new Apply(key, Record.of(version, Value.ofUtf8("v")), new Stamp(9L, HybridLogicalClock.fromMillis(stampMillis)),
        Cause.WRITE);
  }

  private void admitted(Apply apply) {
    long weight = StoreAdmission.weightOf(apply);
    assertTrue(admission.tryAdmit(weight));
    core.handle("caller", apply, weight);
  }

  @Test
  public void aQueuedApplyHoldsItsWeightUntilItsBatchIsAnswered() {
    admitted(apply("k", wallMillis.get()));
    assertEquals(1, flushes);
    assertTrue(answers.isEmpty());
    assertEquals(1, admission.queued());
    core.flush();
    assertTrue(answers.get(0) instanceof Applied);
    assertEquals(0, admission.queued());
    assertEquals(0, admission.queuedBytes());
  }

  @Test
  public void anApplyAnsweredAtOnceReleasesItsWeight() {
    admitted(apply("old", wallMillis.get() - Duration.ofMinutes(5).toMillis())); // older than max-message-age
    admitted(apply("ahead", wallMillis.get() + Duration.ofDays(1).toMillis())); // a clock reading refused
    assertEquals(0, flushes);
    assertTrue(answers.get(0) instanceof Applied); // not applied: answered with what is held
    assertTrue(answers.get(1) instanceof Unavailable);
    assertEquals(0, admission.queued());
    assertEquals(0, admission.queuedBytes());
  }

  @Test
  public void aListingWithNoScanSlotIsTruncatedAndTakesNoSnapshot() {
    ListEntries list = new ListEntries(List.of(0, 1, 2), 10, false, new Stamp(9L, clock.peek()));
    scanSlotFree = false;
    core.handle("caller", list);
    assertEquals(0, snapshots);
    assertTrue(((Entries) answers.get(0)).truncated());
    scanSlotFree = true;
    core.handle("caller", list);
    assertEquals(1, snapshots);
    assertFalse(((Entries) answers.get(1)).truncated());
  }

  /**
   * An expired value settles as a tombstone, but only once this replica's clock is past its
   * expiry by twice max-clock-offset, the mark step and a second (then every coordinator judges it
   * expired); it then reads as absent here, and is purged once the grace has run from its expiry.
   */
  @Test
  public void anExpiredValueSettlesOnlyPastTheMarginAndIsPurgedTheGraceAfterItsExpiry() {
    Version version = new Version(clock.tick(), OWN_ID);
    Record expiring = new Record(version, Value.ofUtf8("lease"), 10_000L);
    admitted(new Apply("lease", expiring, new Stamp(9L, clock.peek()), Cause.WRITE));
    core.flush();
    long expiry = expiring.expiresAtMillis();
    long margin = 2 * clock.maxOffsetMillis() + HybridLogicalClock.millisOf(clock.markStep()) + 1_000L;

    wallMillis.set(expiry + margin - 1);
    assertTrue("not offered before the margin", core.unsettledTombstones(10, clock.peek()).isEmpty());
    assertFalse(checked("lease", version));
    core.handle("caller", new ReplicaProtocol.SettleTombstone("lease", version, new Stamp(9L, clock.peek())));
    assertFalse(((ReplicaProtocol.TombstoneHeld) answers.get(answers.size() - 1)).holds());

    wallMillis.set(expiry + margin);
    assertEquals(List.of(new ReplicaProtocol.Entry("lease", version, expiring.digest())),
        core.unsettledTombstones(10, clock.peek()));
    assertTrue(checked("lease", version));
    core.handle("caller", new ReplicaProtocol.SettleTombstone("lease", version, new Stamp(9L, clock.peek())));
    assertTrue(((ReplicaProtocol.TombstoneHeld) answers.get(answers.size() - 1)).holds());
    core.handle("caller", new ReplicaProtocol.Read("lease", new Stamp(9L, clock.peek()), Cause.READ));
    assertEquals("settled: absence", java.util.Optional.empty(),
        ((ReplicaProtocol.RecordHeld) answers.get(answers.size() - 1)).record());
    assertTrue("settled: offered no more", core.unsettledTombstones(10, clock.peek()).isEmpty());

    // The grace (1 h here) runs from the expiry, not from the version.
    wallMillis.set(HybridLogicalClock.millisOf(version.hlc()) + Duration.ofHours(1).toMillis() + 1);
    core.purge();
    assertTrue("kept until the grace after its expiry", memory.get("lease").isPresent());
    wallMillis.set(expiry + Duration.ofHours(1).toMillis());
    core.purge();
    assertFalse(memory.get("lease").isPresent());
  }

  /** Expired values are offered in turns, from where the last offer stopped, half the batch at most. */
  @Test
  public void expiredValuesAreOfferedInTurnsSoTheOnesThatCannotSettleStarveNoOthers() {
    for (String key : List.of("e1", "e2", "e3", "e4")) {
      admitted(new Apply(key, new Record(new Version(clock.tick(), OWN_ID), Value.ofUtf8(key), 1_000L),
          new Stamp(9L, clock.peek()), Cause.WRITE));
    }
    core.flush();
    wallMillis.addAndGet(Duration.ofMinutes(1).toMillis());
    assertEquals(List.of("e1", "e2"), keys(core.unsettledTombstones(4, clock.peek())));
    assertEquals(List.of("e3", "e4"), keys(core.unsettledTombstones(4, clock.peek())));
    assertEquals(List.of("e1", "e2"), keys(core.unsettledTombstones(4, clock.peek())));
  }

  /** A settled expired value reads as absent, but anti-entropy (which listed it) gets it as stored. */
  @Test
  public void aSettledExpiredValueIsAbsentToReadsAndHandedOverAsStoredToAntiEntropy() {
    Version version = new Version(clock.tick(), OWN_ID);
    Record expiring = new Record(version, Value.ofUtf8("gone"), 1_000L);
    admitted(new Apply("k", expiring, new Stamp(9L, clock.peek()), Cause.WRITE));
    core.flush();
    wallMillis.addAndGet(Duration.ofMinutes(1).toMillis());
    core.handle("caller", new ReplicaProtocol.SettleTombstone("k", version, new Stamp(9L, clock.peek())));
    core.handle("caller", new ReplicaProtocol.Read("k", new Stamp(9L, clock.peek()), Cause.READ));
    assertEquals(java.util.Optional.empty(), ((ReplicaProtocol.RecordHeld) answers.get(answers.size() - 1)).record());
    core.handle("caller", new ReplicaProtocol.Read("k", new Stamp(9L, clock.peek()), Cause.ANTI_ENTROPY));
    assertEquals(java.util.Optional.of(expiring),
        ((ReplicaProtocol.RecordHeld) answers.get(answers.size() - 1)).record());
  }

  /**
   * A promise is reported beside a value with a TTL only while it stands above both the committed
   * ballot and the record (docs/listing-watch-ttl.md, revision 8, A1 and A2).
   */
  @Test
  public void aPromiseIsReportedOnlyAboveTheCommittedBallotAndTheRecordBesideATtl() {
    Version record = new Version(100L, 2L);
    Version above = new Version(200L, 3L);
    java.util.Optional<Record> held = java.util.Optional.of(new Record(record, Value.ofUtf8("v"), 5_000L));
    PaxosState promisedAbove = PaxosState.NONE.withPromise(above);
    assertEquals(java.util.Optional.of(above), StoreCore.promiseAbove(promisedAbove, held, true));
    assertEquals("not beside a TTL", java.util.Optional.empty(), StoreCore.promiseAbove(promisedAbove, held, false));
    assertEquals("committed at the promise", java.util.Optional.empty(),
        StoreCore.promiseAbove(promisedAbove.withCommit(above), held, true));
    assertEquals("a promise at the record's version", java.util.Optional.empty(),
        StoreCore.promiseAbove(PaxosState.NONE.withPromise(record), held, true));
    assertEquals("no record held: above nothing", java.util.Optional.of(above),
        StoreCore.promiseAbove(promisedAbove, java.util.Optional.empty(), true));
  }

  private static List<String> keys(List<ReplicaProtocol.Entry> entries) {
    return entries.stream().map(ReplicaProtocol.Entry::key).toList();
  }

  private boolean checked(String key, Version version) {
    core.handle("caller", new ReplicaProtocol.CheckTombstone(key, version, new Stamp(9L, clock.peek())));
    return ((ReplicaProtocol.TombstoneHeld) answers.get(answers.size() - 1)).holds();
  }

  /** A memory engine that counts the snapshots taken of it. */
  private final class CountingSnapshots implements Storage {
    private final MemoryStorage delegate;

    CountingSnapshots(MemoryStorage delegate) {
      this.delegate = delegate;
    }

    @Override
    public Snapshot snapshot() {
      snapshots++;
      return delegate.snapshot();
    }

    @Override public java.util.Optional<Record> get(String key) { return delegate.get(key); }
    @Override public List<ApplyOutcome> applyIfNewer(List<KeyedRecord> batch, java.util.Map<String, PaxosState> paxos) {
      return delegate.applyIfNewer(batch, paxos);
    }
    @Override public PaxosState paxos(String key) { return delegate.paxos(key); }
    @Override public List<String> paxosKeys(String fromKey, int limit) { return delegate.paxosKeys(fromKey, limit); }
    @Override public List<KeyedRecord> scan(String fromKey, int limit) { return delegate.scan(fromKey, limit); }
    @Override public java.util.Optional<byte[]> getMeta(String name) { return delegate.getMeta(name); }
    @Override public void putMeta(String name, byte[] value) { delegate.putMeta(name, value); }
    @Override public long clockMark() { return delegate.clockMark(); }
    @Override public void putClockMark(long mark) { delegate.putClockMark(mark); }
    @Override public long bytesOnDisk() { return delegate.bytesOnDisk(); }
    @Override public void putHint(Hint hint) { delegate.putHint(hint); }
    @Override public List<Hint> hints(String target, int limit) { return delegate.hints(target, limit); }
    @Override public List<Hint> allHints() { return delegate.allHints(); }
    @Override public void deleteHint(String target, String key) { delegate.deleteHint(target, key); }
    @Override public void putSettled(SettledTombstone settled) { delegate.putSettled(settled); }
    @Override public void deleteSettled(String key) { delegate.deleteSettled(key); }
    @Override public List<SettledTombstone> allSettled() { return delegate.allSettled(); }
    @Override public boolean deleteIfHeld(String key, Version version) { return delegate.deleteIfHeld(key, version); }
    @Override public void discardRecords() { delegate.discardRecords(); }
    @Override public long sequence() { return delegate.sequence(); }
    @Override public void sync() { delegate.sync(); }
    @Override public void close() { delegate.close(); }
  }
}
