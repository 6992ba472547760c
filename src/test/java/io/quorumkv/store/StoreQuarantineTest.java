package io.quorumkv.store;

import io.quorumkv.config.FsyncMode;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import akka.actor.testkit.typed.javadsl.TestKitJunitResource;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import io.quorumkv.store.ReplicaProtocol.Answer;
import io.quorumkv.store.ReplicaProtocol.Applied;
import io.quorumkv.store.ReplicaProtocol.Apply;
import io.quorumkv.store.ReplicaProtocol.Read;
import io.quorumkv.store.ReplicaProtocol.ReadVersion;
import io.quorumkv.store.ReplicaProtocol.RecordHeld;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.store.ReplicaProtocol.Unavailable;
import io.quorumkv.version.HybridLogicalClock;
import io.quorumkv.version.Version;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.After;
import org.junit.ClassRule;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * Goal: a record that cannot be decoded on disk never stops the replica (not at start, where the
 * bucket hashes are rebuilt, nor at a read): its key answers unavailable, never absent, and the
 * first valid record applied to it heals it.
 */
public class StoreQuarantineTest {

  @ClassRule
  public static final TestKitJunitResource testKit = new TestKitJunitResource();

  @Rule
  public final TemporaryFolder folder = new TemporaryFolder();

  private RocksDbStorage storage;

  @After
  public void closeStorage() {
    if (storage != null) {
      storage.close();
    }
  }

  @Test
  public void aCorruptRecordIsAnsweredUnavailableUntilAPeersRecordReplacesIt() throws Exception {
    ReplicaStats stats = new ReplicaStats();
    storage = RocksDbStorage.open(folder.newFolder("data").toPath(), FsyncMode.ALWAYS, stats::corruptRecordFound);
    storage.putUncheckedForTests("k", new byte[] {1, 0, 0});
    long now = HybridLogicalClock.fromMillis(System.currentTimeMillis());
    HybridLogicalClock clock = new HybridLogicalClock(System::currentTimeMillis, 0L);
    Incarnation ready = new Incarnation(42L, Incarnation.State.READY, List.of(), state -> { });
    ActorRef<StoreActor.Command> store = testKit.spawn(StoreActor.create("a", 42L, storage, clock, stats,
        FsyncMode.ALWAYS, Duration.ofMinutes(1), ready,
        new StoreCore.PurgeRule(Duration.ofHours(1), Duration.ofMinutes(1), Duration.ofHours(1), () -> true),
          new StoreAdmission(100_000, 1L << 30), new StorageAlarm(StorageAlarm.NO_QUOTA), Set.of()));
    ReplyProbe probe = new ReplyProbe(testKit);
    Stamp sender = new Stamp(9L, now);

    store.tell(probe.call(new Read("k", sender, ReplicaProtocol.Cause.READ)));
    assertTrue(probe.expectMessageClass(Unavailable.class).reason().contains("unreadable"));
    store.tell(probe.call(new ReadVersion("k", sender)));
    probe.expectMessageClass(Unavailable.class);
    assertTrue("found at the start-up scan and at each read", stats.corruptRecords() >= 2);

    Record fromPeer = Record.of(new Version(now, 7L), Value.ofUtf8("healed"));
    store.tell(probe.call(new Apply("k", fromPeer, sender, ReplicaProtocol.Cause.ANTI_ENTROPY)));
    assertEquals(fromPeer.version(), probe.expectMessageClass(Applied.class).version());
    store.tell(probe.call(new Read("k", sender, ReplicaProtocol.Cause.READ)));
    assertEquals(fromPeer, probe.expectMessageClass(RecordHeld.class).record().orElseThrow());
  }
}
