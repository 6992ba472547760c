package io.quorumkv.store;

import io.quorumkv.config.FsyncMode;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import io.quorumkv.version.Version;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * Goal: RocksDB keeps the storage contract, keeps what it was given across a reopen, and
 * refuses a data directory it must not use (locked, foreign format) with a clear reason.
 */
public class RocksDbStorageTest extends StorageContractTest {

  @Rule
  public final TemporaryFolder folder = new TemporaryFolder();

  private Path directory;

  @Override
  protected Storage open() {
    try {
      directory = folder.newFolder("data").toPath();
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
    return RocksDbStorage.open(directory, FsyncMode.ALWAYS);
  }

  @Test
  public void recordsReplicaIdAndClockMarkSurviveAReopen() {
    Record record = Record.of(new Version(42, 7), Value.ofUtf8("durable"));
    storage.applyIfNewer(List.of(new KeyedRecord("k", record)));
    storage.applyIfNewer(List.of(new KeyedRecord("gone", Record.tombstone(new Version(43, 7)))));
    long replicaId = ReplicaMetadata.replicaId(storage);
    ReplicaMetadata.saveClockMark(storage, 12345L);
    storage.close();

    storage = RocksDbStorage.open(directory, FsyncMode.NEVER);
    assertEquals(record, storage.get("k").orElseThrow());
    assertTrue(storage.get("gone").orElseThrow().isTombstone());
    assertEquals(replicaId, ReplicaMetadata.replicaId(storage));
    assertEquals(12345L, ReplicaMetadata.clockMark(storage));
  }

  @Test
  public void theClockMarkOfThePreviousReleaseIsReadUntilANewOneIsWrittenAndIsKeptForARollback() throws Exception {
    // The previous release kept the mark in the metadata and had no mark file.
    putLegacyMark(5_000L);
    storage.close();
    Files.delete(directory.resolve(ClockMarkFile.FILE_NAME));

    storage = RocksDbStorage.open(directory, FsyncMode.ALWAYS);
    assertEquals(5_000L, storage.clockMark());
    storage.putClockMark(6_000L);
    assertEquals(6_000L, storage.clockMark());
    assertEquals(6_000L, ByteBuffer.wrap(storage.getMeta(RocksDbStorage.LEGACY_CLOCK_MARK).orElseThrow()).getLong());
    storage.putClockMark(0L); // a new replica id's fresh clock: both copies are lowered
    reopen();
    assertEquals(0L, storage.clockMark());
  }

  /** Writes the clock mark where the previous release keeps it (it has no mark file). */
  private void putLegacyMark(long mark) {
    storage.putMeta(RocksDbStorage.LEGACY_CLOCK_MARK, ByteBuffer.allocate(8).putLong(mark).array());
  }

  private void reopen() {
    storage.close();
    storage = RocksDbStorage.open(directory, FsyncMode.ALWAYS);
  }

  @Test
  public void rolledBackThenUpgradedAgainTheHigherOfTheTwoMarksWins() throws Exception {
    storage.putClockMark(6_000L);
    // The previous release, rolled back to, moved only the metadata entry.
    putLegacyMark(9_000L);
    reopen();
    assertEquals(9_000L, storage.clockMark());
  }

  @Test
  public void aClockMarkFileWithNoValidSlotGivesNoMarkToTrust() throws Exception {
    storage.putClockMark(100L);
    storage.putClockMark(200L);
    storage.close();
    try (java.io.RandomAccessFile file = new java.io.RandomAccessFile(
        directory.resolve(ClockMarkFile.FILE_NAME).toFile(), "rw")) {
      for (long slot : new long[] {0, 4096}) {
        file.seek(slot + 20);
        file.write(new byte[] {9, 9, 9, 9}); // both checksums spoilt
      }
    }
    storage = RocksDbStorage.open(directory, FsyncMode.ALWAYS);
    // Far beyond any wall clock: the replica starts under a new replica id (clock rule 2).
    assertEquals(Long.MAX_VALUE, storage.clockMark());
    assertTrue(io.quorumkv.version.HybridLogicalClock.markIsTooFarAhead(storage.clockMark(),
        System.currentTimeMillis(), java.time.Duration.ofSeconds(5)));
  }

  @Test
  public void aTornClockMarkSlotFallsBackToThePreviousMark() throws Exception {
    storage.putClockMark(100L); // slot 1
    storage.putClockMark(200L); // slot 0
    // A crash tore the write of 200, so the metadata copy, written after the file, still says 100.
    putLegacyMark(100L);
    storage.close();
    try (java.io.RandomAccessFile file = new java.io.RandomAccessFile(
        directory.resolve(ClockMarkFile.FILE_NAME).toFile(), "rw")) {
      file.seek(8);
      file.write(new byte[] {1, 2, 3}); // the last write, torn by a crash
    }
    storage = RocksDbStorage.open(directory, FsyncMode.ALWAYS);
    assertEquals(100L, storage.clockMark()); // no version at or past 100 was issued before 200 was durable
    storage.putClockMark(300L);
    reopen();
    assertEquals(300L, storage.clockMark());
  }

  @Test
  public void secondOpenOfTheSameDirectoryIsRefusedAsLocked() {
    StorageUnusableException e = assertThrows(StorageUnusableException.class,
        () -> RocksDbStorage.open(directory, FsyncMode.ALWAYS));
    assertTrue(e.getMessage(), e.getMessage().contains("locked by another process"));
    storage.applyIfNewer(List.of(new KeyedRecord("k", Record.of(new Version(1, 1), Value.ofUtf8("v")))));
    assertTrue("the first owner is unharmed", storage.get("k").isPresent());
  }

  /**
   * The upgrade path of TTLs: a directory stays at format 1 (which the build before TTLs opens)
   * until its first TTL record, and moves to 2 in that record's own batch, also when the record
   * comes only inside a Paxos proposal; records without TTL keep their exact bytes.
   */
  @Test
  public void theFormatVersionMovesToTwoWithTheFirstTtlRecordOnly() {
    RocksDbStorage rocks = (RocksDbStorage) storage;
    assertEquals(1, rocks.formatVersion());
    Version version = new Version(1L << 40, 7L);
    storage.applyIfNewer(List.of(new KeyedRecord("plain", Record.of(version, Value.ofUtf8("v")))));
    assertEquals("a record without TTL leaves the format as the previous build reads it", 1, rocks.formatVersion());
    assertEquals(1, ByteBuffer.wrap(storage.getMeta("format-version").orElseThrow()).getInt());

    Record proposed = new Record(new Version((1L << 40) + 1, 7L), Value.ofUtf8("cas"), 30_000L);
    storage.applyIfNewer(List.of(), java.util.Map.of("cas", PaxosState.NONE.withAccepted(
        new Proposal(proposed.version(), Optional.of(proposed), false))));
    assertEquals(2, rocks.formatVersion());
    reopen();
    assertEquals(2, ((RocksDbStorage) storage).formatVersion());
    assertEquals(2, ByteBuffer.wrap(storage.getMeta("format-version").orElseThrow()).getInt());

    Record expiring = new Record(new Version((1L << 40) + 2, 7L), Value.ofUtf8("x"), 1_000L);
    storage.applyIfNewer(List.of(new KeyedRecord("ttl", expiring)));
    reopen();
    assertEquals(Optional.of(expiring), storage.get("ttl"));
    assertEquals(30_000L, storage.paxos("cas").accepted().orElseThrow().record().orElseThrow().ttlMillis());
  }

  @Test
  public void aDirectoryOfTheBuildBeforeTtlsOpensAndStaysAtItsFormat() {
    storage.putMeta("format-version", ByteBuffer.allocate(4).putInt(1).array());
    storage.applyIfNewer(List.of(new KeyedRecord("k", Record.of(new Version(1L << 40, 7L), Value.ofUtf8("v")))));
    reopen();
    assertEquals(1, ((RocksDbStorage) storage).formatVersion());
    assertEquals("v", new String(storage.get("k").orElseThrow().value().bytes(), java.nio.charset.StandardCharsets.UTF_8));
  }

  @Test
  public void foreignFormatVersionIsRefused() {
    storage.putMeta("format-version", ByteBuffer.allocate(4).putInt(99).array());
    storage.close();
    StorageUnusableException e = assertThrows(StorageUnusableException.class,
        () -> RocksDbStorage.open(directory, FsyncMode.ALWAYS));
    assertTrue(e.getMessage(), e.getMessage().contains("format version 99"));
    storage = RocksDbStorage.open(folderFor("other"), FsyncMode.ALWAYS); // for closeStorage()
  }

  @Test
  public void unwritableDirectoryIsRefused() throws Exception {
    Path file = Files.createFile(directory.getParent().resolve("not-a-directory"));
    StorageUnusableException e = assertThrows(StorageUnusableException.class,
        () -> RocksDbStorage.open(file, FsyncMode.ALWAYS));
    assertTrue(e.getMessage(), e.getMessage().contains("not-a-directory"));
  }

  @Test
  public void corruptRecordFailsLoudlyInsteadOfBeingServed() {
    assertThrows(CorruptRecordException.class, () -> RecordCodec.decode("k", new byte[] {9, 9}));
    byte[] encoded = RecordCodec.encode(Record.tombstone(new Version(5, 5)));
    assertEquals(Record.tombstone(new Version(5, 5)), RecordCodec.decode("k", encoded));
    byte[] withTrailingBytes = java.util.Arrays.copyOf(encoded, encoded.length + 1);
    assertThrows(CorruptRecordException.class, () -> RecordCodec.decode("k", withTrailingBytes));
  }

  @Test
  public void aTtlRecordRoundTripsAndAValueWithoutTtlKeepsTheBytesOfTheBuildBefore() {
    Record expiring = new Record(new Version(5, 5), Value.ofUtf8("v"), 30_000L);
    byte[] encoded = RecordCodec.encode(expiring);
    assertEquals(expiring, RecordCodec.decode("k", encoded));
    assertEquals(30_000L, RecordCodec.decode("k", encoded).ttlMillis());
    // the digest covers the TTL, so copies that differ in it never agree
    Record plainValue = Record.of(new Version(5, 5), Value.ofUtf8("v"));
    assertEquals(expiring.digest(), new Record(new Version(5, 5), Value.ofUtf8("v"), 30_000L).digest());
    assertTrue(expiring.digest() != plainValue.digest());
    assertTrue(expiring.digest() != new Record(new Version(5, 5), Value.ofUtf8("v"), 30_001L).digest());
    assertTrue(expiring.digest() != Record.TOMBSTONE_DIGEST);
    // format 1, hlc 5, replica id 5, kind 0 (value), the bytes: as before TTLs existed
    byte[] plain = RecordCodec.encode(Record.of(new Version(5, 5), Value.ofUtf8("v")));
    assertEquals(1 + 8 + 8 + 1 + 1, plain.length);
    assertEquals(0, plain[17]);
    // the TTL kind with no TTL, or one cut short, is corrupt
    byte[] zeroTtl = encoded.clone();
    java.util.Arrays.fill(zeroTtl, 18, 26, (byte) 0);
    assertThrows(CorruptRecordException.class, () -> RecordCodec.decode("k", zeroTtl));
    assertThrows(CorruptRecordException.class,
        () -> RecordCodec.decode("k", java.util.Arrays.copyOf(encoded, 20)));
  }

  @Test
  public void aRecordAtVersionZeroIsCorruptOnDiskAsOnTheWire() {
    // Finding: the wire took hlc 0 with a replica id, the disk decoder did not, and the read
    // that followed stopped the replica. Both now build a Record, so neither can store one.
    assertThrows(IllegalArgumentException.class, () -> Record.tombstone(new Version(0, 1)));
    byte[] atZero = java.nio.ByteBuffer.allocate(18).put(RecordCodec.FORMAT).putLong(0).putLong(1).put((byte) 1).array();
    assertThrows(CorruptRecordException.class, () -> RecordCodec.decode("k", atZero));
  }

  @Test
  public void aCorruptStoredRecordIsQuarantinedNotFatalAndAValidRecordReplacesIt() {
    List<String> reported = new java.util.ArrayList<>();
    storage.close();
    storage = RocksDbStorage.open(directory, FsyncMode.ALWAYS, e -> reported.add(e.key()));
    storage.applyIfNewer(List.of(new KeyedRecord("a", Record.of(new Version(5, 1), Value.ofUtf8("x")))));
    ((RocksDbStorage) storage).putUncheckedForTests("bad", new byte[] {9, 9, 9});
    storage.applyIfNewer(List.of(new KeyedRecord("c", Record.of(new Version(5, 1), Value.ofUtf8("z")))));

    assertThrows(CorruptRecordException.class, () -> storage.get("bad"));
    assertEquals("a scan skips the corrupt record and keeps going",
        List.of("a", "c"), storage.scan("", 10).stream().map(KeyedRecord::key).toList());
    assertEquals(List.of("bad", "bad"), reported);
    assertFalse(storage.deleteIfHeld("bad", new Version(5, 1)));

    Record repaired = Record.of(new Version(3, 2), Value.ofUtf8("from a peer"));
    ApplyOutcome outcome = storage.applyIfNewer(List.of(new KeyedRecord("bad", repaired))).get(0);
    assertTrue("any valid record replaces a corrupt one", outcome.changed());
    assertEquals(Optional.empty(), outcome.before());
    assertEquals(repaired, storage.get("bad").orElseThrow());
  }

  @Test
  public void callsAfterCloseFailCleanlyInsteadOfTouchingAClosedDatabase() {
    storage.close();
    assertThrows(IllegalStateException.class, () -> storage.get("k"));
    assertThrows(IllegalStateException.class, () -> storage.putHint(new Hint("p", "k", 1)));
    assertThrows(IllegalStateException.class, () -> storage.putMeta("x", new byte[1]));
    storage.close(); // closing twice is harmless (closeStorage() closes again)
  }

  private Path folderFor(String name) {
    try {
      return folder.newFolder(name).toPath();
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
