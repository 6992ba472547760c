package io.quorumkv.simulation;

import io.quorumkv.store.ApplyOutcome;
import io.quorumkv.store.Hint;
import io.quorumkv.store.KeyedRecord;
import io.quorumkv.store.MemoryStorage;
import io.quorumkv.store.PaxosState;
import io.quorumkv.store.Record;
import io.quorumkv.store.SettledTombstone;
import io.quorumkv.store.Storage;
import io.quorumkv.version.Version;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * A replica's data directory in the simulation: a {@link MemoryStorage} that models syncing.
 * Every write lands in the live state at once; it becomes durable when it is synced, which is
 * at once for what RocksDB writes with a synced log (records and hints with {@code fsync =
 * always}; metadata and the clock mark always) and at {@link #sync()} for the rest. A
 * {@link #crash()} throws away everything not durable: the live state is rebuilt from the
 * durable writes alone, in their order.
 */
final class SimDisk implements Storage {

  private final boolean syncEveryWrite;
  /** Every durable write, in order: replayed onto an empty engine at a crash. */
  private final List<Consumer<Storage>> durable = new ArrayList<>();
  /** Writes made since the last sync that are not durable yet. */
  private final List<Consumer<Storage>> unsynced = new ArrayList<>();
  private MemoryStorage live = new MemoryStorage();
  private int crashes;
  private int lostWrites;

  /** @param syncEveryWrite {@code fsync = always}: every write is durable when it returns */
  SimDisk(boolean syncEveryWrite) {
    this.syncEveryWrite = syncEveryWrite;
  }

  /** The process died: what was not synced is gone. */
  void crash() {
    crashes++;
    lostWrites += unsynced.size();
    unsynced.clear();
    live = new MemoryStorage();
    for (Consumer<Storage> write : durable) {
      write.accept(live);
    }
  }

  int crashes() {
    return crashes;
  }

  /** Writes a crash threw away (each a write that had returned, but was not synced yet). */
  int lostWrites() {
    return lostWrites;
  }

  private void write(Consumer<Storage> write, boolean synced) {
    write.accept(live);
    log(write, synced);
  }

  /** Logs a write already made on the live state: durable now, or at the next sync. */
  private void log(Consumer<Storage> write, boolean synced) {
    if (synced || syncEveryWrite) {
      unsynced.forEach(durable::add); // a synced write makes the log before it durable too
      unsynced.clear();
      durable.add(write);
    } else {
      unsynced.add(write);
    }
  }

  @Override
  public Optional<Record> get(String key) {
    return live.get(key);
  }

  @Override
  public List<ApplyOutcome> applyIfNewer(List<KeyedRecord> batch, java.util.Map<String, PaxosState> paxos) {
    List<KeyedRecord> copy = List.copyOf(batch);
    java.util.Map<String, PaxosState> states = java.util.Map.copyOf(paxos);
    List<ApplyOutcome> outcomes = live.applyIfNewer(copy, states);
    log(storage -> storage.applyIfNewer(copy, states), !states.isEmpty()); // Paxos state: always synced
    return outcomes;
  }

  @Override
  public PaxosState paxos(String key) {
    return live.paxos(key);
  }

  @Override
  public List<String> paxosKeys(String fromKey, int limit) {
    return live.paxosKeys(fromKey, limit);
  }

  @Override
  public List<KeyedRecord> scan(String fromKey, int limit) {
    return live.scan(fromKey, limit);
  }

  @Override
  public Optional<byte[]> getMeta(String name) {
    return live.getMeta(name);
  }

  @Override
  public void putMeta(String name, byte[] value) {
    byte[] copy = value.clone();
    write(storage -> storage.putMeta(name, copy), true);
  }

  @Override
  public long clockMark() {
    return live.clockMark();
  }

  @Override
  public void putClockMark(long mark) {
    write(storage -> storage.putClockMark(mark), true);
  }

  @Override
  public long bytesOnDisk() {
    return 0;
  }

  @Override
  public void putHint(Hint hint) {
    write(storage -> storage.putHint(hint), false);
  }

  @Override
  public List<Hint> hints(String target, int limit) {
    return live.hints(target, limit);
  }

  @Override
  public List<Hint> allHints() {
    return live.allHints();
  }

  @Override
  public void deleteHint(String target, String key) {
    write(storage -> storage.deleteHint(target, key), false);
  }

  @Override
  public void putSettled(SettledTombstone settled) {
    write(storage -> storage.putSettled(settled), false);
  }

  @Override
  public void deleteSettled(String key) {
    write(storage -> storage.deleteSettled(key), false);
  }

  @Override
  public List<SettledTombstone> allSettled() {
    return live.allSettled();
  }

  @Override
  public boolean deleteIfHeld(String key, Version version) {
    boolean deleted = live.deleteIfHeld(key, version);
    if (deleted) {
      log(storage -> storage.deleteIfHeld(key, version), false);
    }
    return deleted;
  }

  @Override
  public Snapshot snapshot() {
    return live.snapshot();
  }

  @Override
  public void discardRecords() {
    write(Storage::discardRecords, true);
  }

  @Override
  public long sequence() {
    return 0;
  }

  @Override
  public void sync() {
    durable.addAll(unsynced);
    unsynced.clear();
  }

  @Override
  public void close() {
    sync();
  }
}
