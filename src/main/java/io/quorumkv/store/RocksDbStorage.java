package io.quorumkv.store;

import io.quorumkv.config.FsyncMode;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.Env;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.SstFileManager;
import org.rocksdb.Status;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * The default {@link Storage}: RocksDB under the data directory, with column families
 * {@code data} (records by key), {@code hints} (for hinted handoff), {@code meta}
 * (replica id, clock mark, format version) and {@code settled} (settled tombstones). The Paxos
 * state of keys written conditionally (docs/conditional-writes.md) lives in {@code meta} under
 * {@link #PAXOS_PREFIX} and the key: no new column family, so a data directory written by this
 * release still opens on the previous one, which reads metadata by name only and never sees these
 * entries (docs/operating.md, "Upgrading").
 *
 * <p>Durability follows the {@link FsyncMode}: with {@code ALWAYS} every batch is written with
 * a synced write-ahead log before {@link #applyIfNewer} returns; otherwise the log is synced by
 * {@link #sync()} or the OS. Metadata writes are always synced: the clock's mark must survive
 * any crash. RocksDB is thread-safe, so the clock may write metadata from its own thread while
 * the StoreActor writes records.
 */
public final class RocksDbStorage implements Storage {

  /**
   * The newest layout this code reads and writes: 2 adds records with a TTL. A directory stays
   * at {@link #FORMAT_VERSION_BEFORE_TTL} until its first TTL record, and moves to 2 in the batch
   * that writes it, so a directory that holds none still opens on the build before TTLs, and one
   * that holds one is refused there instead of having keys quarantined (docs/operating.md,
   * "Upgrading"). A directory of any other version is refused.
   */
  public static final int FORMAT_VERSION = 2;
  static final int FORMAT_VERSION_BEFORE_TTL = 1;
  private static final String FORMAT_KEY = "format-version";
  /** Metadata names of Paxos states: this, then the key. No other metadata name starts so. */
  static final String PAXOS_PREFIX = "paxos/";
  /** Where the previous release kept the clock mark (now {@link ClockMarkFile}). */
  static final String LEGACY_CLOCK_MARK = "clock-mark";

  static {
    RocksDB.loadLibrary();
  }

  private final Path directory;
  private final DBOptions options;
  /**
   * Tracks the files so RocksDB recovers by itself from a full disk: once free space is back
   * (at least one write buffer's worth, 64 MiB by default), it clears the error and writes
   * resume, within about five seconds (its polling interval).
   */
  private final SstFileManager files;
  private final ClockMarkFile clockMarkFile;
  private final ColumnFamilyOptions familyOptions;
  private final RocksDB db;
  private final List<ColumnFamilyHandle> handles;
  private final ColumnFamilyHandle data;
  private final ColumnFamilyHandle hints;
  private final ColumnFamilyHandle meta;
  private final ColumnFamilyHandle settled;
  private final WriteOptions recordWrites;
  private final WriteOptions syncedWrites;
  /**
   * Calls hold the read lock, {@link #close} the write lock: the clock and the hint actor may
   * still call in while the replica stops, and RocksDB must never be used after it is closed.
   */
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private boolean closed;
  /** The directory's format version: {@link #FORMAT_VERSION_BEFORE_TTL} until its first TTL record. */
  private volatile int format;

  private final Consumer<CorruptRecordException> corruption;

  private RocksDbStorage(Path directory, FsyncMode mode, Consumer<CorruptRecordException> corruption)
      throws RocksDBException {
    this.directory = directory;
    this.corruption = corruption;
    this.files = new SstFileManager(Env.getDefault());
    this.options = new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true)
        .setKeepLogFileNum(3).setSstFileManager(files);
    this.familyOptions = new ColumnFamilyOptions();
    List<ColumnFamilyDescriptor> families = List.of(
        new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, familyOptions),
        new ColumnFamilyDescriptor(bytes("data"), familyOptions),
        new ColumnFamilyDescriptor(bytes("hints"), familyOptions),
        new ColumnFamilyDescriptor(bytes("meta"), familyOptions),
        new ColumnFamilyDescriptor(bytes("settled"), familyOptions));
    this.handles = new ArrayList<>();
    this.db = RocksDB.open(options, directory.toString(), families, handles);
    this.data = handles.get(1);
    this.hints = handles.get(2);
    this.meta = handles.get(3);
    this.settled = handles.get(4);
    this.recordWrites = new WriteOptions().setSync(mode == FsyncMode.ALWAYS);
    this.syncedWrites = new WriteOptions().setSync(true);
    this.clockMarkFile = ClockMarkFile.open(directory);
  }

  /**
   * Opens (creating if needed) the store in {@code directory}.
   *
   * @throws StorageUnusableException with a one-line reason when the directory is not
   *     writable, locked by another process, or written in another format
   */
  public static RocksDbStorage open(Path directory, FsyncMode mode) {
    return open(directory, mode, e -> {});
  }

  /**
   * Like {@link #open(Path, FsyncMode)}; {@code corruption} hears of every record found corrupt
   * (on any thread that reads), so it can be counted and logged.
   */
  public static RocksDbStorage open(Path directory, FsyncMode mode, Consumer<CorruptRecordException> corruption) {
    try {
      Files.createDirectories(directory);
    } catch (java.io.IOException e) {
      throw new StorageUnusableException("cannot create data directory " + directory + ": " + e, e);
    }
    if (!Files.isDirectory(directory) || !Files.isWritable(directory)) {
      throw new StorageUnusableException("data directory " + directory + " is not a writable directory", null);
    }
    RocksDbStorage storage;
    try {
      storage = new RocksDbStorage(directory, mode, corruption);
    } catch (RocksDBException e) {
      String message = String.valueOf(e.getMessage());
      if (isNoSpace(e)) {
        throw new StorageFullException("cannot open data directory " + directory + ": " + message, e);
      }
      if (message.toLowerCase().contains("lock")) {
        throw new StorageUnusableException("data directory " + directory
            + " is locked by another process (is another replica using it?): " + message, e);
      }
      throw new StorageUnusableException("cannot open data directory " + directory + ": " + message, e);
    }
    try {
      storage.checkFormat();
    } catch (RuntimeException e) {
      storage.close();
      throw e;
    }
    return storage;
  }

  private void checkFormat() {
    Optional<byte[]> format = getMeta(FORMAT_KEY);
    if (format.isEmpty()) {
      if (!scan("", 1).isEmpty()) {
        throw new StorageUnusableException("data directory " + directory + " holds records but no format version", null);
      }
      putMeta(FORMAT_KEY, formatBytes(FORMAT_VERSION_BEFORE_TTL));
      this.format = FORMAT_VERSION_BEFORE_TTL;
      return;
    }
    int found = format.get().length == 4 ? ByteBuffer.wrap(format.get()).getInt() : -1;
    if (found != FORMAT_VERSION_BEFORE_TTL && found != FORMAT_VERSION) {
      throw new StorageUnusableException("data directory " + directory + " was written in format version "
          + found + "; this replica reads format versions " + FORMAT_VERSION_BEFORE_TTL + " and " + FORMAT_VERSION, null);
    }
    this.format = found;
  }

  /** The directory's format version now (tests and {@code /cluster}). */
  public int formatVersion() {
    return format;
  }

  private static byte[] formatBytes(int version) {
    return ByteBuffer.allocate(4).putInt(version).array();
  }

  private static boolean hasTtl(Optional<Record> record) {
    return record.filter(Record::hasTtl).isPresent();
  }

  /** A call into RocksDB, made under the read lock after checking the store is open. */
  @FunctionalInterface
  private interface Call<T> {
    T run() throws RocksDBException;
  }

  private <T> T locked(String what, Call<T> call) {
    lock.readLock().lock();
    try {
      checkOpen();
      return call.run();
    } catch (RocksDBException e) {
      if (isNoSpace(e)) {
        throw new StorageFullException("storage " + what + " refused, the disk is full: " + e.getMessage(), e);
      }
      throw new IllegalStateException("storage " + what + " failed: " + e.getMessage(), e);
    } finally {
      lock.readLock().unlock();
    }
  }

  /**
   * ENOSPC, as RocksDB reports it for the write that hit it and for every write after it until
   * it has recovered (its background error stays set meanwhile).
   */
  private static boolean isNoSpace(RocksDBException e) {
    Status status = e.getStatus();
    if (status != null && status.getSubCode() == Status.SubCode.NoSpace) {
      return true;
    }
    return String.valueOf(e.getMessage()).contains("No space left on device");
  }

  /**
   * The higher of the mark file's mark and the metadata entry the previous release keeps it in:
   * each is only ever written before a reading passes it, so each bounds every version issued.
   * The higher one covers a data directory of the previous release (no file yet) and one that
   * was rolled back to it and upgraded again (the file behind the entry).
   */
  @Override
  public long clockMark() {
    return Math.max(clockMarkFile.mark(), legacyClockMark());
  }

  private long legacyClockMark() {
    return getMeta(LEGACY_CLOCK_MARK).map(bytes -> ByteBuffer.wrap(bytes).getLong()).orElse(0L);
  }

  /**
   * Writes the mark file, which works on a full disk; then the metadata entry the previous
   * release reads, best effort when the mark moves up (on a full disk the entry lags; the file
   * holds the mark), required when it moves down (a fresh clock under a new replica id): the
   * higher of the two is the mark.
   */
  @Override
  public void putClockMark(long mark) {
    lock.readLock().lock();
    try {
      checkOpen();
      clockMarkFile.write(mark);
    } finally {
      lock.readLock().unlock();
    }
    try {
      putMeta(LEGACY_CLOCK_MARK, ByteBuffer.allocate(Long.BYTES).putLong(mark).array());
    } catch (StorageFullException e) {
      if (mark < legacyClockMark()) {
        throw e;
      }
    }
  }

  @Override
  public long bytesOnDisk() {
    try (java.util.stream.Stream<Path> paths = Files.list(directory)) {
      return paths.mapToLong(path -> {
        try {
          return Files.isRegularFile(path) ? Files.size(path) : 0L;
        } catch (java.io.IOException e) {
          return 0L; // deleted meanwhile (a compaction's input)
        }
      }).sum();
    } catch (java.io.IOException | java.io.UncheckedIOException e) {
      return -1L; // unknown for now (a file vanished mid-listing): measured again in a second
    }
  }

  /** @throws CorruptRecordException when the stored record cannot be decoded (the key is quarantined) */
  @Override
  public Optional<Record> get(String key) {
    return locked("read", () -> {
      byte[] bytes = db.get(data, bytes(key));
      return bytes == null ? Optional.empty() : Optional.of(decode(key, bytes));
    });
  }

  private Record decode(String key, byte[] bytes) {
    try {
      return RecordCodec.decode(key, bytes);
    } catch (CorruptRecordException e) {
      corruption.accept(e);
      throw e;
    }
  }

  /** The held record, or null when absent or corrupt: a corrupt record is replaced by any valid one. */
  private Record heldOrReplaceable(String key) {
    try {
      return get(key).orElse(null);
    } catch (CorruptRecordException e) {
      return null;
    }
  }

  @Override
  public PaxosState paxos(String key) {
    return locked("read", () -> {
      byte[] bytes = db.get(meta, bytes(PAXOS_PREFIX + key));
      if (bytes == null) {
        return PaxosState.NONE;
      }
      try {
        return PaxosCodec.decode(key, bytes);
      } catch (CorruptRecordException e) {
        corruption.accept(e);
        throw e;
      }
    });
  }

  @Override
  public List<String> paxosKeys(String fromKey, int limit) {
    return locked("scan", () -> {
      List<String> keys = new ArrayList<>();
      try (RocksIterator iterator = db.newIterator(meta)) {
        for (iterator.seek(bytes(PAXOS_PREFIX + fromKey)); iterator.isValid() && keys.size() < limit; iterator.next()) {
          String name = new String(iterator.key(), StandardCharsets.UTF_8);
          if (!name.startsWith(PAXOS_PREFIX)) {
            break;
          }
          keys.add(name.substring(PAXOS_PREFIX.length()));
        }
      }
      return keys;
    });
  }

  @Override
  public List<ApplyOutcome> applyIfNewer(List<KeyedRecord> batch, Map<String, PaxosState> states) {
    return locked("write", () -> {
      Map<String, Record> heldInBatch = new HashMap<>();
      List<ApplyOutcome> outcomes = new ArrayList<>(batch.size());
      boolean writesTtl = false;
      try (WriteBatch writes = new WriteBatch()) {
        for (Map.Entry<String, PaxosState> state : states.entrySet()) {
          if (state.getValue().isNone()) {
            writes.delete(meta, bytes(PAXOS_PREFIX + state.getKey()));
          } else {
            writes.put(meta, bytes(PAXOS_PREFIX + state.getKey()), PaxosCodec.encode(state.getValue()));
            writesTtl |= hasTtl(state.getValue().accepted().flatMap(Proposal::record));
          }
        }
        for (KeyedRecord entry : batch) {
          Record current = heldInBatch.containsKey(entry.key())
              ? heldInBatch.get(entry.key()) : heldOrReplaceable(entry.key());
          Record incoming = entry.record();
          Record held = current;
          if (current == null || incoming.version().isAfter(current.version())) {
            writes.put(data, bytes(entry.key()), RecordCodec.encode(incoming));
            writesTtl |= incoming.hasTtl();
            held = incoming;
          }
          heldInBatch.put(entry.key(), held);
          outcomes.add(new ApplyOutcome(Optional.ofNullable(current), held));
        }
        boolean formatMoves = writesTtl && format < FORMAT_VERSION;
        if (formatMoves) {
          // In the same batch as the first TTL record: no crash can leave one in a directory an
          // older build would still open.
          writes.put(meta, bytes(FORMAT_KEY), formatBytes(FORMAT_VERSION));
        }
        if (writes.count() > 0) {
          // A promise or an accepted proposal is durable before it is answered, whatever the
          // fsync mode: a replica that forgot one could break a round (docs/conditional-writes.md).
          db.write(states.isEmpty() && !formatMoves ? recordWrites : syncedWrites, writes);
        }
        if (formatMoves) {
          format = FORMAT_VERSION;
        }
      }
      return outcomes;
    });
  }

  /** Tests only: stores {@code bytes} as the record of {@code key}, unchecked, as bit rot would. */
  void putUncheckedForTests(String key, byte[] bytes) {
    locked("write", () -> {
      db.put(data, syncedWrites, bytes(key), bytes);
      return null;
    });
  }

  @Override
  public List<KeyedRecord> scan(String fromKey, int limit) {
    return locked("scan", () -> {
      try (RocksIterator iterator = db.newIterator(data)) {
        return page(iterator, fromKey, limit);
      }
    });
  }

  /** Up to {@code limit} records from {@code fromKey} on; undecodable ones are skipped. */
  private List<KeyedRecord> page(RocksIterator iterator, String fromKey, int limit) {
    List<KeyedRecord> page = new ArrayList<>(Math.min(limit, 1024));
    for (iterator.seek(bytes(fromKey)); iterator.isValid() && page.size() < limit; iterator.next()) {
      String key = new String(iterator.key(), StandardCharsets.UTF_8);
      try {
        page.add(new KeyedRecord(key, decode(key, iterator.value())));
      } catch (CorruptRecordException e) {
        // Skipped: out of the bucket hashes, so anti-entropy brings the peers' record.
      }
    }
    return page;
  }

  @Override
  public long sequence() {
    return locked("read", db::getLatestSequenceNumber);
  }

  @Override
  public void discardRecords() {
    locked("discard", () -> {
      for (ColumnFamilyHandle family : List.of(data, hints, settled, meta)) {
        try (RocksIterator iterator = db.newIterator(family); WriteBatch deletes = new WriteBatch()) {
          for (iterator.seekToFirst(); iterator.isValid(); iterator.next()) {
            if (family == meta && !new String(iterator.key(), StandardCharsets.UTF_8).startsWith(PAXOS_PREFIX)) {
              continue; // metadata stays, but for the Paxos table
            }
            deletes.delete(family, iterator.key());
            if (deletes.count() >= 10_000) {
              db.write(syncedWrites, deletes);
              deletes.clear();
            }
          }
          db.write(syncedWrites, deletes);
        }
      }
      return null;
    });
  }

  /**
   * A consistent copy of the whole store in {@code target} (which must not exist): a RocksDB
   * checkpoint, whose immutable files are hard links when {@code target} is on the same file
   * system (cheap), copies otherwise; the clock mark file is copied beside them. Writes go on
   * meanwhile; the copy holds everything synced before it started.
   */
  public void checkpoint(Path target) {
    locked("checkpoint", () -> {
      try (org.rocksdb.Checkpoint checkpoint = org.rocksdb.Checkpoint.create(db)) {
        checkpoint.createCheckpoint(target.toString());
      }
      Path mark = directory.resolve(ClockMarkFile.FILE_NAME);
      if (Files.exists(mark)) {
        try {
          Files.copy(mark, target.resolve(ClockMarkFile.FILE_NAME));
        } catch (java.io.IOException e) {
          throw new IllegalStateException("cannot copy the clock mark into " + target + ": " + e.getMessage(), e);
        }
      }
      return null;
    });
  }

  @Override
  public Snapshot snapshot() {
    return locked("snapshot", () -> new RocksSnapshot(db.getSnapshot()));
  }

  /** A RocksDB snapshot and the read options that read at it; released at close (or with the database). */
  private final class RocksSnapshot implements Snapshot {
    private final org.rocksdb.Snapshot snapshot;
    private final org.rocksdb.ReadOptions at;
    private boolean released;

    RocksSnapshot(org.rocksdb.Snapshot snapshot) {
      this.snapshot = snapshot;
      this.at = new org.rocksdb.ReadOptions().setSnapshot(snapshot);
    }

    @Override
    public List<KeyedRecord> scan(String fromKey, int limit) {
      return locked("scan", () -> {
        try (RocksIterator iterator = db.newIterator(data, at)) {
          return page(iterator, fromKey, limit);
        }
      });
    }

    @Override
    public List<ScannedRecord> scanRaw(String fromKey, int limit) {
      return locked("scan", () -> {
        List<ScannedRecord> page = new ArrayList<>(Math.min(limit, 1024));
        try (RocksIterator iterator = db.newIterator(data, at)) {
          for (iterator.seek(bytes(fromKey)); iterator.isValid() && page.size() < limit; iterator.next()) {
            String key = new String(iterator.key(), StandardCharsets.UTF_8);
            Optional<Record> record;
            try {
              record = Optional.of(decode(key, iterator.value()));
            } catch (CorruptRecordException e) {
              record = Optional.empty(); // listed as unknown: it may have been the newest record
            }
            page.add(new ScannedRecord(key, record));
          }
        }
        return page;
      });
    }

    @Override
    public List<ScannedPaxos> scanPaxos(String fromKey, int limit) {
      return locked("scan", () -> {
        List<ScannedPaxos> page = new ArrayList<>(Math.min(limit, 1024));
        try (RocksIterator iterator = db.newIterator(meta, at)) {
          for (iterator.seek(bytes(PAXOS_PREFIX + fromKey)); iterator.isValid() && page.size() < limit;
              iterator.next()) {
            String name = new String(iterator.key(), StandardCharsets.UTF_8);
            if (!name.startsWith(PAXOS_PREFIX)) {
              break;
            }
            String key = name.substring(PAXOS_PREFIX.length());
            Optional<PaxosState> state;
            try {
              state = Optional.of(PaxosCodec.decode(key, iterator.value()));
            } catch (CorruptRecordException e) {
              state = Optional.empty();
            }
            page.add(new ScannedPaxos(key, state));
          }
        }
        return page;
      });
    }

    @Override
    public Optional<io.quorumkv.version.Version> settledVersion(String key) {
      return locked("read", () -> {
        byte[] value = db.get(settled, at, bytes(key));
        if (value == null || value.length != 24) {
          return Optional.empty();
        }
        ByteBuffer buffer = ByteBuffer.wrap(value);
        return Optional.of(new io.quorumkv.version.Version(buffer.getLong(), buffer.getLong()));
      });
    }

    @Override
    public void close() {
      lock.readLock().lock();
      try {
        if (!released && !closed) {
          db.releaseSnapshot(snapshot);
        }
        released = true;
        at.close();
      } finally {
        lock.readLock().unlock();
      }
    }
  }

  @Override
  public Optional<byte[]> getMeta(String name) {
    return locked("read", () -> Optional.ofNullable(db.get(meta, bytes(name))));
  }

  @Override
  public void putMeta(String name, byte[] value) {
    locked("write", () -> {
      db.put(meta, syncedWrites, bytes(name), value);
      return null;
    });
  }

  @Override
  public void putSettled(SettledTombstone tombstone) {
    byte[] value = ByteBuffer.allocate(24).putLong(tombstone.version().hlc()).putLong(tombstone.version().replicaId())
        .putLong(tombstone.settledAtMillis()).array();
    locked("write", () -> {
      db.put(settled, recordWrites, bytes(tombstone.key()), value);
      return null;
    });
  }

  @Override
  public void deleteSettled(String key) {
    locked("write", () -> {
      db.delete(settled, recordWrites, bytes(key));
      return null;
    });
  }

  @Override
  public List<SettledTombstone> allSettled() {
    return locked("scan", () -> {
      List<SettledTombstone> found = new ArrayList<>();
      try (RocksIterator iterator = db.newIterator(settled)) {
        for (iterator.seekToFirst(); iterator.isValid(); iterator.next()) {
          ByteBuffer value = ByteBuffer.wrap(iterator.value());
          found.add(new SettledTombstone(new String(iterator.key(), StandardCharsets.UTF_8),
              new io.quorumkv.version.Version(value.getLong(), value.getLong()), value.getLong()));
        }
      }
      return found;
    });
  }

  @Override
  public boolean deleteIfHeld(String key, io.quorumkv.version.Version version) {
    return locked("write", () -> {
      Record held = heldOrReplaceable(key);
      if (held == null || !held.version().equals(version)) {
        return false;
      }
      db.delete(data, recordWrites, bytes(key));
      return true;
    });
  }

  // A hint is stored under target + NUL + key (names and keys contain no NUL in practice; a
  // NUL in a target name would only mix up hint listings, never records), valued its time.
  @Override
  public void putHint(Hint hint) {
    locked("write", () -> {
      db.put(hints, recordWrites, hintKey(hint.target(), hint.key()),
          ByteBuffer.allocate(Long.BYTES).putLong(hint.createdMillis()).array());
      return null;
    });
  }

  @Override
  public List<Hint> hints(String target, int limit) {
    return locked("scan", () -> scanHints(hintKey(target, ""), target, limit));
  }

  @Override
  public List<Hint> allHints() {
    return locked("scan", () -> scanHints(new byte[0], null, Integer.MAX_VALUE));
  }

  private List<Hint> scanHints(byte[] from, String onlyTarget, int limit) {
    List<Hint> found = new ArrayList<>();
    try (RocksIterator iterator = db.newIterator(hints)) {
      for (iterator.seek(from); iterator.isValid() && found.size() < limit; iterator.next()) {
        String composite = new String(iterator.key(), StandardCharsets.UTF_8);
        int separator = composite.indexOf('\u0000');
        String target = composite.substring(0, separator);
        if (onlyTarget != null && !onlyTarget.equals(target)) {
          break;
        }
        found.add(new Hint(target, composite.substring(separator + 1), ByteBuffer.wrap(iterator.value()).getLong()));
      }
    }
    return found;
  }

  @Override
  public void deleteHint(String target, String key) {
    locked("write", () -> {
      db.delete(hints, recordWrites, hintKey(target, key));
      return null;
    });
  }

  private static byte[] hintKey(String target, String key) {
    return bytes(target + "\u0000" + key);
  }

  @Override
  public void sync() {
    locked("sync", () -> {
      db.syncWal();
      return null;
    });
  }

  @Override
  public void close() {
    lock.writeLock().lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      closeHandles();
    } finally {
      lock.writeLock().unlock();
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("storage is closed");
    }
  }

  private void closeHandles() {
    for (ColumnFamilyHandle handle : handles) {
      handle.close();
    }
    db.close();
    recordWrites.close();
    syncedWrites.close();
    familyOptions.close();
    options.close();
    files.close();
    clockMarkFile.close();
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
