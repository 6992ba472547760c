package io.quorumkv.store;

import java.util.List;
import java.util.Optional;

/**
 * The storage engine under one replica. The {@link StoreActor} is the only caller of the
 * record methods; {@link #putMeta} may also be called by the clock from another thread, and
 * the hint methods are called by the hinted-handoff actor, so engines make those thread-safe.
 * Calls may block (the StoreActor runs on a dedicated dispatcher). Any write may throw
 * {@link StorageFullException} when the disk is full; the engine refuses writes until space
 * returns, and reads go on.
 *
 * <p>Contract, tested for every engine by {@code StorageContractTest}:
 * <ul>
 *   <li>{@link #applyIfNewer} stores a record only when its version is higher than the one
 *       held for the key, so applying is idempotent and commutative; tombstones are records.
 *   <li>A batch is applied as a unit: after a crash either all of it or none of it is there
 *       (engines that persist data; the memory engine forgets everything anyway).
 *   <li>When {@link #applyIfNewer} returns, its effects are as durable as the engine promises.
 *   <li>{@link #scan} returns records in ascending key order (UTF-8 byte order), tombstones
 *       included.
 * </ul>
 */
public interface Storage extends AutoCloseable {

  /** The record held for {@code key}, tombstones included. */
  Optional<Record> get(String key);

  /**
   * Applies each record whose version is higher than the one held for its key, as one batch.
   *
   * @return for each entry of {@code batch}, in order, what was held for its key before the
   *     entry and what is held after it (the entry's own record or a higher one)
   */
  default List<ApplyOutcome> applyIfNewer(List<KeyedRecord> batch) {
    return applyIfNewer(batch, java.util.Map.of());
  }

  /**
   * As {@link #applyIfNewer(List)}, and writes {@code paxos} (each key's new Paxos state;
   * {@link PaxosState#NONE} deletes it) in the same atomic batch, before the records: a batch
   * holds the promises, proposals and commits decided with its applies (group commit).
   */
  List<ApplyOutcome> applyIfNewer(List<KeyedRecord> batch, java.util.Map<String, PaxosState> paxos);

  /**
   * The Paxos state of {@code key} (docs/conditional-writes.md), {@link PaxosState#NONE} when it
   * has none.
   *
   * @throws CorruptRecordException when the stored state cannot be decoded
   */
  PaxosState paxos(String key);

  /** Up to {@code limit} keys that have a Paxos state, from {@code fromKey} on, in key order. */
  List<String> paxosKeys(String fromKey, int limit);

  /** Up to {@code limit} records with keys at or after {@code fromKey}, in ascending key order. */
  List<KeyedRecord> scan(String fromKey, int limit);

  /** Small named metadata (replica id, clock mark); empty when never written. */
  Optional<byte[]> getMeta(String name);

  /**
   * Stores metadata durably (synced in every fsync mode) before returning. May be called from
   * any thread, concurrently with the StoreActor's calls.
   */
  void putMeta(String name, byte[] value);

  /** The clock's durable mark; 0 when never written. */
  long clockMark();

  /**
   * Stores the clock's mark durably before returning. Unlike the other writes it keeps working
   * on a full disk where the engine can (it overwrites bytes already allocated), so a replica
   * whose disk is full still observes clocks and serves reads. May be called from any thread.
   */
  void putClockMark(long mark);

  /**
   * Bytes the engine's files take on disk now (0 for an engine that keeps nothing there; -1 when
   * they could not be measured this time).
   */
  long bytesOnDisk();

  /** Stores (or refreshes) the hint for {@code (target, key)}, as durably as records. */
  void putHint(Hint hint);

  /** Up to {@code limit} hints for {@code target}, in key order. */
  List<Hint> hints(String target, int limit);

  /** Every hint, for counting at start. */
  List<Hint> allHints();

  void deleteHint(String target, String key);

  /** Records that {@code key}'s tombstone is settled. Called by the StoreActor only. */
  void putSettled(SettledTombstone settled);

  void deleteSettled(String key);

  /** Every settled tombstone, for rebuilding the StoreActor's view at start. */
  List<SettledTombstone> allSettled();

  /**
   * Purges {@code key} if it still holds exactly {@code version} (a newer write may have come
   * since); returns whether it did.
   */
  boolean deleteIfHeld(String key, io.quorumkv.version.Version version);

  /**
   * A consistent read-only view of the records and settled tombstones as of now, for long scans
   * off the StoreActor's thread (anti-entropy listings). Thread-safe; close it when done.
   */
  Snapshot snapshot();

  /** See {@link #snapshot()}. */
  interface Snapshot extends AutoCloseable {
    /** As {@link Storage#scan}, as of the snapshot; undecodable records are skipped. */
    List<KeyedRecord> scan(String fromKey, int limit);

    /**
     * As {@link #scan}, but an undecodable record is listed too, with no record: a list page
     * reports its key as unknown, never as absent (it may have held the newest write).
     */
    List<ScannedRecord> scanRaw(String fromKey, int limit);

    /**
     * The Paxos states of up to {@code limit} keys from {@code fromKey} on, in key order, as of
     * the snapshot; an unreadable one with no state.
     */
    List<ScannedPaxos> scanPaxos(String fromKey, int limit);

    /** The version of {@code key}'s settled tombstone as of the snapshot, if it has one. */
    Optional<io.quorumkv.version.Version> settledVersion(String key);

    @Override
    void close();
  }

  /**
   * Deletes every record, hint, settled tombstone and Paxos state (metadata stays): for a data directory
   * whose state went backwards, before it starts again as a wiped replica (docs/identity.md).
   */
  void discardRecords();

  /**
   * A number that grows with every write and survives restarts (RocksDB's sequence number; 0 for
   * an engine that keeps nothing): a process that opens storage below a number an earlier
   * process reported runs on state that went backwards (docs/identity.md).
   */
  long sequence();

  /** Makes every write so far durable (used by {@code fsync = periodic}). */
  void sync();

  @Override
  void close();
}
