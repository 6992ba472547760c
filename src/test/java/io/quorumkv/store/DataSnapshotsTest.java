package io.quorumkv.store;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import io.quorumkv.config.FsyncMode;
import io.quorumkv.version.Version;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.Test;

/**
 * Goal: a snapshot is a marked, consistent copy that writes after it do not change; names are
 * checked; disaster recovery keeps the newest record of each key across the snapshots (a newer
 * tombstone wins over an older value), gives each output its own new replica id, and refuses an
 * output that already holds something. Real RocksDB in temporary directories.
 */
public class DataSnapshotsTest {

  private static Record value(long hlc, String text) {
    return Record.of(new Version(hlc, 7), Value.ofUtf8(text));
  }

  private static void apply(Storage storage, String key, Record record) {
    storage.applyIfNewer(List.of(new KeyedRecord(key, record)));
  }

  @Test
  public void aSnapshotIsAMarkedCopyAsOfItsTime() throws Exception {
    Path root = Files.createTempDirectory("snapshots");
    try (RocksDbStorage storage = RocksDbStorage.open(root.resolve("data"), FsyncMode.ALWAYS)) {
      apply(storage, "k", value(1, "before"));
      DataSnapshots.Taken taken = DataSnapshots.take(storage, root.resolve("snaps"), "s1", "test replica");
      apply(storage, "k", value(2, "after"));
      assertEquals(root.resolve("snaps").resolve("s1"), taken.path());
      assertTrue(taken.bytes() > 0);
      assertTrue(DataSnapshots.isRestored(taken.path()));
      assertFalse(DataSnapshots.isRestored(root.resolve("data")));
      DataSnapshots.Refused taken2 = assertThrows(DataSnapshots.Refused.class,
          () -> DataSnapshots.take(storage, root.resolve("snaps"), "s1", "test replica"));
      assertTrue(taken2.clientError());
    }
    try (RocksDbStorage copy = RocksDbStorage.open(root.resolve("snaps").resolve("s1"), FsyncMode.ALWAYS)) {
      assertEquals(Optional.of(value(1, "before")), copy.get("k"));
    }
    DataSnapshots.clearMarker(root.resolve("snaps").resolve("s1"));
    assertFalse(DataSnapshots.isRestored(root.resolve("snaps").resolve("s1")));
  }

  @Test
  public void namesAreOnePlainPathSegment() {
    for (String good : List.of("nightly", "peer0-20261207T104501Z", "a.b_c-d", "x".repeat(100))) {
      assertTrue(good, DataSnapshots.validName(good));
    }
    for (String bad : List.of("", ".", "..", "../x", "a/b", "-x", ".hidden", "x".repeat(101), "a b", "ä")) {
      assertFalse(bad, DataSnapshots.validName(bad));
    }
  }

  @Test
  public void recoveryKeepsTheNewestRecordOfEachKeyUnderNewIds() throws Exception {
    Path root = Files.createTempDirectory("recovery");
    List<Path> snapshots = List.of(root.resolve("s0"), root.resolve("s1"));
    try (RocksDbStorage s0 = RocksDbStorage.open(snapshots.get(0), FsyncMode.ALWAYS);
        RocksDbStorage s1 = RocksDbStorage.open(snapshots.get(1), FsyncMode.ALWAYS)) {
      apply(s0, "newer-here", value(5, "s0's"));
      apply(s1, "newer-here", value(4, "s1's"));
      apply(s0, "deleted", value(1, "old"));
      apply(s1, "deleted", Record.tombstone(new Version(2, 7)));
      apply(s1, "only-s1", value(3, "lone"));
    }
    List<Path> outputs = List.of(root.resolve("r0"), root.resolve("r1"), root.resolve("r2"));
    Files.createDirectories(outputs.get(1)); // an empty directory is fine
    DisasterRecovery.Summary summary = DisasterRecovery.recover(snapshots, outputs, false);
    assertEquals(3, summary.keys());
    assertEquals(1, summary.tombstones());
    assertEquals(List.of(2L, 3L), summary.recordsRead());
    assertEquals(List.of(0L, 0L), summary.corruptSkipped());
    for (Path output : outputs) {
      assertFalse("no partial output left", Files.exists(Path.of(output + ".recovering")));
    }
    assertEquals(3, summary.replicaIds().stream().distinct().count());
    for (int i = 0; i < outputs.size(); i++) {
      try (RocksDbStorage output = RocksDbStorage.open(outputs.get(i), FsyncMode.ALWAYS)) {
        assertEquals(Optional.of(value(5, "s0's")), output.get("newer-here"));
        assertEquals(Optional.of(Record.tombstone(new Version(2, 7))), output.get("deleted"));
        assertEquals(Optional.of(value(3, "lone")), output.get("only-s1"));
        assertEquals((long) summary.replicaIds().get(i), ReplicaMetadata.replicaId(output));
        assertEquals(Incarnation.State.UNPROVEN, ReplicaMetadata.incarnationState(output));
        assertTrue("only for a brand-new cluster", ReplicaMetadata.isRecoveredCluster(output));
      }
    }
    assertNotEquals(summary.replicaIds().get(0), summary.replicaIds().get(1));
    IllegalArgumentException notEmpty = assertThrows(IllegalArgumentException.class,
        () -> DisasterRecovery.recover(snapshots, List.of(outputs.get(0)), false));
    assertTrue(notEmpty.getMessage(), notEmpty.getMessage().contains("is not empty"));
  }
}
