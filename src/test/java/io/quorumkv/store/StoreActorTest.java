package io.quorumkv.store;

import io.quorumkv.config.FsyncMode;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import akka.actor.testkit.typed.javadsl.TestKitJunitResource;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import io.quorumkv.store.ReplicaProtocol.Answer;
import io.quorumkv.faults.DeliberateBug;
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
import java.util.concurrent.atomic.AtomicLong;
import org.junit.ClassRule;
import org.junit.Test;

/** Goal: the StoreActor answers the replica protocol from its storage and keeps its clock ahead. */
public class StoreActorTest {

  @ClassRule
  public static final TestKitJunitResource testKit = new TestKitJunitResource();

  private static final long OWN_ID = 42L;
  private static final Stamp SENDER = new Stamp(9L, 0L);

  private final AtomicLong wallMillis = new AtomicLong(1_000L);
  private final HybridLogicalClock clock = new HybridLogicalClock(wallMillis::get, 0L);
  private final ReplicaStats stats = new ReplicaStats();
  private final Incarnation incarnation = new Incarnation(OWN_ID, Incarnation.State.UNPROVEN, List.of("b", "c"), state -> { });
  private final MemoryStorage storage = new MemoryStorage();
  private final ActorRef<StoreActor.Command> storeActor =
      testKit.spawn(StoreActor.create("a", OWN_ID, storage, clock, stats, FsyncMode.ALWAYS, Duration.ofMinutes(1),
          incarnation, new StoreCore.PurgeRule(Duration.ZERO, Duration.ZERO, Duration.ofHours(1), () -> true),
          new StoreAdmission(100_000, 1L << 30), new StorageAlarm(StorageAlarm.NO_QUOTA), Set.of()));
  private final ActorRef<StoreActor.Command> store = storeActor.narrow();
  private final ReplyProbe probe = new ReplyProbe(testKit);

  private Applied apply(Record record) {
    store.tell(probe.call(new Apply("k", record, SENDER, ReplicaProtocol.Cause.WRITE)));
    return probe.expectMessageClass(Applied.class);
  }

  private Optional<Record> read() {
    store.tell(probe.call(new Read("k", SENDER, ReplicaProtocol.Cause.READ)));
    return probe.expectMessageClass(RecordHeld.class).record();
  }

  @Test
  public void appliesArrivingTogetherAreAllAnsweredWithWhatIsHeld() {
    vouch();
    List<Record> records = new ArrayList<>();
    for (int i = 1; i <= 50; i++) {
      records.add(Record.of(new Version(1_000 + i, 1), Value.ofUtf8("v" + i)));
      store.tell(probe.call(new Apply("k" + (i % 5), records.get(i - 1), SENDER, ReplicaProtocol.Cause.WRITE)));
    }
    List<Answer> answers = probe.receiveSeveralMessages(50);
    for (int i = 0; i < 50; i++) {
      Applied applied = (Applied) answers.get(i);
      assertTrue(applied.version() + " >= " + records.get(i).version(),
          applied.version().compareTo(records.get(i).version()) >= 0);
    }
    store.tell(probe.call(new Read("k0", SENDER, ReplicaProtocol.Cause.READ)));
    assertEquals(records.get(49), probe.expectMessageClass(RecordHeld.class).record().orElseThrow());
  }

  private void vouch() {
    incarnation.heardFrom("b", new Incarnation.PeerView(Incarnation.State.READY, List.of())); // a ready peer vouches
  }

  @Test
  public void unprovenReplicaAppliesButAnswersUnavailableUntilVouchedFor() {
    Record record = Record.of(new Version(700, 1), Value.ofUtf8("v"));
    store.tell(probe.call(new Apply("k", record, SENDER, ReplicaProtocol.Cause.WRITE)));
    assertTrue(probe.expectMessageClass(ReplicaProtocol.Unavailable.class).reason().contains("unproven"));
    store.tell(probe.call(new Read("k", SENDER, ReplicaProtocol.Cause.READ)));
    probe.expectMessageClass(ReplicaProtocol.Unavailable.class);
    vouch();
    assertEquals(Optional.of(record), read()); // the record was kept all along
  }

  @Test
  public void aFullDiskRefusesAppliesUnavailableKeepsServingReadsAndTakesWritesOnceThereIsRoom() throws Exception {
    MemoryStorage disk = new MemoryStorage();
    StorageAlarm alarm = new StorageAlarm(StorageAlarm.NO_QUOTA);
    ActorRef<StoreActor.Command> fullActor = testKit.spawn(StoreActor.create("a", OWN_ID, disk, clock, stats,
        FsyncMode.ALWAYS, Duration.ofMinutes(1), incarnation, new StoreCore.PurgeRule(Duration.ZERO, Duration.ZERO,
            Duration.ofHours(1), () -> true), new StoreAdmission(100_000, 1L << 30), alarm, Set.of()));
    ActorRef<StoreActor.Command> full = fullActor.narrow();
    vouch();
    Record first = Record.of(new Version(1_100, 1), Value.ofUtf8("kept"));
    Record deleted = Record.tombstone(new Version(1_150, 1));
    full.tell(probe.call(new Apply("k", first, SENDER, ReplicaProtocol.Cause.WRITE)));
    full.tell(probe.call(new Apply("gone", deleted, SENDER, ReplicaProtocol.Cause.WRITE)));
    probe.expectMessageClass(Applied.class);
    probe.expectMessageClass(Applied.class);

    disk.setFullForTests(true);
    Record refused = Record.of(new Version(1_200, 1), Value.ofUtf8("refused"));
    for (Record record : List.of(refused, Record.tombstone(new Version(1_300, 1)))) {
      full.tell(probe.call(new Apply("k", record, SENDER, ReplicaProtocol.Cause.WRITE)));
      String reason = probe.expectMessageClass(ReplicaProtocol.Unavailable.class).reason();
      assertTrue(reason, reason.startsWith("storage full"));
    }
    assertTrue(alarm.isDiskFull());
    full.tell(probe.call(new Read("k", SENDER, ReplicaProtocol.Cause.READ)));
    assertEquals(Optional.of(first), probe.expectMessageClass(RecordHeld.class).record());
    fullActor.tell(new ReplyProbe(testKit).call(new ReplicaProtocol.SettleTombstone("gone", deleted.version(), SENDER))); // a write: refused, no crash
    full.tell(probe.call(new Read("k", SENDER, ReplicaProtocol.Cause.READ)));
    probe.expectMessageClass(RecordHeld.class);

    disk.setFullForTests(false);
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (alarm.isDiskFull()) {
      assertTrue("the disk probe did not find room within 30 s", System.nanoTime() < deadline);
      Thread.sleep(20);
    }
    full.tell(probe.call(new Apply("k", refused, SENDER, ReplicaProtocol.Cause.WRITE)));
    assertEquals(refused.version(), probe.expectMessageClass(Applied.class).version());
  }

  @Test
  public void absentKeyHoldsVersionZero() {
    vouch();
    store.tell(probe.call(new ReadVersion("nothing", SENDER)));
    ReplicaProtocol.Reply reply = probe.receiveReply();
    VersionHeld held = (VersionHeld) reply.answer();
    assertEquals(Version.ZERO, held.version());
    assertEquals("a", reply.replica());
    assertEquals(OWN_ID, held.stamp().replicaId());
  }

  @Test
  public void higherVersionWinsAndTheAnswerSaysWhatIsHeld() {
    vouch();
    Record newer = Record.of(new Version(200, 1), Value.ofUtf8("new"));
    Record older = Record.of(new Version(100, 1), Value.ofUtf8("old"));
    assertEquals(newer.version(), apply(newer).version());
    Applied stale = apply(older);
    assertEquals(newer.version(), stale.version()); // the older record was not applied
    assertEquals(newer.digest(), stale.digest());
    assertEquals(Optional.of(newer), read());
  }

  @Test
  public void reapplyingIsANoOp() {
    vouch();
    Record record = Record.of(new Version(300, 1), Value.ofUtf8("v"));
    apply(record);
    assertEquals(record.version(), apply(record).version());
    assertEquals(Optional.of(record), read());
  }

  @Test
  public void tombstoneHidesTheValue() {
    vouch();
    apply(Record.of(new Version(400, 1), Value.ofUtf8("v")));
    apply(Record.tombstone(new Version(500, 1)));
    assertTrue(read().orElseThrow().isTombstone());
  }

  @Test
  public void clockMovesPastSenderClockAndAppliedVersions() {
    vouch();
    long senderClock = HybridLogicalClock.fromMillis(4_000L); // the wall clock reads 1 s; the offset is 5 s
    store.tell(probe.call(new ReadVersion("k", new Stamp(9L, senderClock))));
    assertTrue(probe.expectMessageClass(VersionHeld.class).stamp().clock() >= senderClock);
    Version far = new Version(HybridLogicalClock.fromMillis(5_500L), 1);
    Applied applied = apply(Record.of(far, Value.ofUtf8("v")));
    assertTrue(applied.stamp().clock() >= far.hlc());
    assertTrue(clock.tick() > far.hlc());
  }

  @Test
  public void anApplyFromBeyondTheClockOffsetIsRefusedAndChangesNothing() {
    vouch();
    Version yearAhead = new Version(HybridLogicalClock.fromMillis(1_000L + 365L * 86_400_000L), 1);
    store.tell(probe.call(new Apply("k", Record.of(yearAhead, Value.ofUtf8("v")), SENDER,
        ReplicaProtocol.Cause.ANTI_ENTROPY)));
    assertTrue(probe.expectMessageClass(ReplicaProtocol.Unavailable.class).reason().contains("max-clock-offset"));
    store.tell(probe.call(new Read("k", new Stamp(9L, Long.MAX_VALUE), ReplicaProtocol.Cause.READ)));
    probe.expectMessageClass(ReplicaProtocol.Unavailable.class);
    assertEquals(Optional.empty(), read());
    assertTrue(clock.tick() < HybridLogicalClock.fromMillis(1_001L));
  }

  @Test
  public void equalVersionWithOtherValueRaisesTheAlarmAndKeepsTheHeldValue() {
    vouch();
    Version version = new Version(600, 1);
    apply(Record.of(version, Value.ofUtf8("first")));
    Applied answer = apply(Record.of(version, Value.ofUtf8("second")));
    assertEquals(Value.ofUtf8("first").digest(), answer.digest());
    assertEquals(1, stats.digestConflicts());
  }

  @Test
  public void applyOlderThanMaxMessageAgeIsNotApplied() {
    vouch();
    wallMillis.set(10 * 60_000L); // this replica's clock: 10 minutes
    Stamp ancient = new Stamp(9L, HybridLogicalClock.fromMillis(60_000L)); // sent at 1 minute
    store.tell(probe.call(new Apply("old", Record.of(new Version(HybridLogicalClock.fromMillis(60_000L), 1),
        Value.ofUtf8("v")), ancient, ReplicaProtocol.Cause.WRITE)));
    assertEquals(Version.ZERO, probe.expectMessageClass(Applied.class).version());
    store.tell(probe.call(new Read("old", SENDER, ReplicaProtocol.Cause.READ)));
    assertEquals(Optional.empty(), probe.expectMessageClass(RecordHeld.class).record());
    assertEquals(1L, (long) stats.snapshot().get("staleMessagesIgnored"));
  }

  @Test
  public void settledTombstoneReadsAsAbsenceAndLeavesTheHashes() {
    vouch();
    Version deleted = new Version(800, 1);
    apply(Record.of(new Version(799, 1), Value.ofUtf8("v")));
    apply(Record.tombstone(deleted));
    ReplyProbe held = new ReplyProbe(testKit);
    storeActor.tell(held.call(new ReplicaProtocol.CheckTombstone("k", deleted, SENDER)));
    assertTrue(held.expectMessageClass(ReplicaProtocol.TombstoneHeld.class).holds());
    ReplyProbe buckets = new ReplyProbe(testKit);
    storeActor.tell(buckets.call(new ReplicaProtocol.GetBuckets(SENDER)));
    long[] withTombstone = buckets.expectMessageClass(ReplicaProtocol.Buckets.class).hashes();

    storeActor.tell(new ReplyProbe(testKit).call(new ReplicaProtocol.SettleTombstone("k", deleted, SENDER)));
    assertEquals(Optional.empty(), read()); // a settled tombstone is absence
    ReplyProbe entries = new ReplyProbe(testKit);
    java.util.Set<Integer> bucket = java.util.Set.of(BucketHashes.bucketOf("k"));
    storeActor.tell(entries.call(new ReplicaProtocol.ListEntries(List.copyOf(bucket), 10, false, SENDER)));
    assertEquals(List.of(), entries.expectMessageClass(ReplicaProtocol.Entries.class).entries());
    storeActor.tell(entries.call(new ReplicaProtocol.ListEntries(List.copyOf(bucket), 10, true, SENDER))); // for a rebuilding peer
    assertEquals(List.of(new ReplicaProtocol.Entry("k", deleted, Record.TOMBSTONE_DIGEST)),
        entries.expectMessageClass(ReplicaProtocol.Entries.class).entries());
    storeActor.tell(buckets.call(new ReplicaProtocol.GetBuckets(SENDER)));
    long[] settledHashes = buckets.expectMessageClass(ReplicaProtocol.Buckets.class).hashes();
    assertEquals(List.of(BucketHashes.bucketOf("k")), BucketHashes.differing(withTombstone, settledHashes));
    assertEquals(List.of(), BucketHashes.differing(settledHashes, new BucketHashes().snapshot()));

    assertTrue("not purged before its purge tick", storage.get("k").isPresent());
  }

  @Test
  public void aListingIsCappedWhateverTheCallerAsksFor() {
    // Finding: entries took any limit and scanned the whole database on the store thread.
    List<KeyedRecord> many = new ArrayList<>();
    for (int i = 0; i < StoreCore.ENTRIES_MAX + 50; i++) {
      many.add(new KeyedRecord("key-" + i, Record.of(new Version(700, 1), Value.ofUtf8("v"))));
    }
    storage.applyIfNewer(many);
    java.util.Set<Integer> all = new java.util.HashSet<>();
    for (int bucket = 0; bucket < BucketHashes.BUCKETS; bucket++) {
      all.add(bucket);
    }
    ReplyProbe entries = new ReplyProbe(testKit);
    storeActor.tell(entries.call(new ReplicaProtocol.ListEntries(List.copyOf(all), Integer.MAX_VALUE, true, SENDER)));
    ReplicaProtocol.Entries listed = entries.expectMessageClass(ReplicaProtocol.Entries.class, Duration.ofSeconds(30));
    assertEquals(StoreCore.ENTRIES_MAX, listed.entries().size());
    assertTrue(listed.truncated());
  }

  @Test
  public void settledTombstoneIsPurgedOnceOldEnoughAndTheKeyCanBeWrittenAgain() {
    MemoryStorage purgingStorage = new MemoryStorage();
    ActorRef<StoreActor.Command> purging = testKit.spawn(StoreActor.create("a", OWN_ID, purgingStorage, clock, stats,
        FsyncMode.ALWAYS, Duration.ofMinutes(1), incarnation,
        new StoreCore.PurgeRule(Duration.ZERO, Duration.ZERO, Duration.ofMillis(50), () -> true),
          new StoreAdmission(100_000, 1L << 30), new StorageAlarm(StorageAlarm.NO_QUOTA), Set.of())); // no grace in this test
    vouch();
    Version deleted = new Version(800, 1);
    purging.tell(probe.call(new Apply("k", Record.tombstone(deleted), SENDER, ReplicaProtocol.Cause.WRITE)));
    probe.expectMessageClass(Applied.class);
    purging.tell(new ReplyProbe(testKit).call(new ReplicaProtocol.SettleTombstone("k", deleted, SENDER)));
    probe.awaitAssert(() -> {
      assertEquals(Optional.empty(), purgingStorage.get("k"));
      return null;
    });
    assertEquals(1L, (long) stats.snapshot().get("tombstonesPurged"));
    Record later = Record.of(new Version(900, 1), Value.ofUtf8("again"));
    purging.tell(probe.call(new Apply("k", later, SENDER, ReplicaProtocol.Cause.WRITE)));
    assertEquals(later.version(), probe.expectMessageClass(Applied.class).version());
  }

  @Test
  public void tombstoneThatIsNotHeldOrIsSupersededIsNotSettled() {
    vouch();
    Version deleted = new Version(800, 1);
    ReplyProbe held = new ReplyProbe(testKit);
    storeActor.tell(held.call(new ReplicaProtocol.CheckTombstone("k", deleted, SENDER)));
    assertEquals(false, held.expectMessageClass(ReplicaProtocol.TombstoneHeld.class).holds()); // holds nothing
    apply(Record.tombstone(deleted));
    apply(Record.of(new Version(801, 1), Value.ofUtf8("newer")));
    storeActor.tell(new ReplyProbe(testKit).call(new ReplicaProtocol.SettleTombstone("k", deleted, SENDER))); // superseded: ignored
    assertEquals(Value.ofUtf8("newer"), read().orElseThrow().value());
  }

  /** A second store on {@code storage}, purge checks every {@code purgeCheck}, no grace, with one deliberate bug. */
  private ActorRef<StoreActor.Command> storeWithBug(MemoryStorage storage, Duration purgeCheck, DeliberateBug bug) {
    return testKit.spawn(StoreActor.create("a", OWN_ID, storage, clock, stats, FsyncMode.ALWAYS, Duration.ofMinutes(1),
        incarnation, new StoreCore.PurgeRule(Duration.ZERO, Duration.ZERO, purgeCheck, () -> true),
          new StoreAdmission(100_000, 1L << 30), new StorageAlarm(StorageAlarm.NO_QUOTA), Set.of(bug)));
  }

  @Test
  public void deliberateBugUnsyncedReadsShowsAnApplyBeforeItIsDurableOrAcknowledged() {
    MemoryStorage lateStorage = new MemoryStorage();
    ActorRef<StoreActor.Command> late = storeWithBug(lateStorage, Duration.ofHours(1), DeliberateBug.UNSYNCED_READS);
    vouch();
    Record record = Record.of(new Version(500, 1), Value.ofUtf8("not yet durable"));
    late.tell(probe.call(new Apply("k", record, SENDER, ReplicaProtocol.Cause.WRITE)));
    late.tell(probe.call(new Read("k", SENDER, ReplicaProtocol.Cause.READ)));
    assertEquals(Optional.of(record), probe.expectMessageClass(RecordHeld.class).record()); // the bug
    assertEquals(Optional.empty(), lateStorage.get("k"));
    assertEquals(record.version(), probe.expectMessageClass(Applied.class).version()); // acknowledged once written
    assertEquals(Optional.of(record), lateStorage.get("k"));
  }

  @Test
  public void deliberateBugTimerPurgePurgesATombstoneNobodySettled() {
    MemoryStorage purgingStorage = new MemoryStorage();
    ActorRef<StoreActor.Command> purging = storeWithBug(purgingStorage, Duration.ofMillis(50), DeliberateBug.TIMER_PURGE);
    vouch();
    purging.tell(probe.call(new Apply("k", Record.tombstone(new Version(800, 1)), SENDER, ReplicaProtocol.Cause.WRITE)));
    probe.expectMessageClass(Applied.class);
    probe.awaitAssert(() -> {
      assertEquals(Optional.empty(), purgingStorage.get("k")); // never settled, purged all the same
      return null;
    });
  }
}
