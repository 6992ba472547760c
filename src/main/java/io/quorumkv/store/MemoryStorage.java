package io.quorumkv.store;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A {@link Storage} held in memory: for unit tests and {@code storage.engine = memory}.
 * Everything is lost when the process stops.
 */
public final class MemoryStorage implements Storage {

  /** Keys ordered by their UTF-8 bytes, as RocksDB orders them, so scans agree across engines. */
  private static final Comparator<String> UTF8_ORDER =
      (a, b) -> Arrays.compareUnsigned(
          a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));

  private final NavigableMap<String, Record> records = new TreeMap<>(UTF8_ORDER);
  private final Map<String, byte[]> meta = new HashMap<>();
  private final NavigableMap<String, Hint> hints = new TreeMap<>();
  private final Map<String, SettledTombstone> settled = new HashMap<>();
  private final NavigableMap<String, PaxosState> paxos = new TreeMap<>(UTF8_ORDER);
  private long clockMark;
  private boolean full; // tests only: every write throws StorageFullException, as on a full disk
  private long bytesOnDisk; // tests only: what bytesOnDisk() reports

  /** Tests only: makes every write but the clock mark's fail as on a full disk (or stop failing). */
  public synchronized void setFullForTests(boolean full) {
    this.full = full;
  }

  /** Tests only: the size {@link #bytesOnDisk()} reports, to exercise the storage quota. */
  public synchronized void setBytesOnDiskForTests(long bytes) {
    this.bytesOnDisk = bytes;
  }

  private void checkRoom() {
    if (full) {
      throw new StorageFullException("no space left on device (simulated)", null);
    }
  }

  @Override
  public synchronized long clockMark() {
    return clockMark;
  }

  @Override
  public synchronized void putClockMark(long mark) {
    clockMark = mark;
  }

  @Override
  public synchronized long bytesOnDisk() {
    return bytesOnDisk;
  }

  @Override
  public synchronized Optional<Record> get(String key) {
    return Optional.ofNullable(records.get(key));
  }

  @Override
  public synchronized List<ApplyOutcome> applyIfNewer(List<KeyedRecord> batch, Map<String, PaxosState> states) {
    checkRoom();
    states.forEach((key, state) -> {
      if (state.isNone()) {
        paxos.remove(key);
      } else {
        paxos.put(key, state);
      }
    });
    List<ApplyOutcome> outcomes = new ArrayList<>(batch.size());
    for (KeyedRecord entry : batch) {
      Optional<Record> before = Optional.ofNullable(records.get(entry.key()));
      outcomes.add(new ApplyOutcome(before, records.merge(entry.key(), entry.record(), MemoryStorage::newer)));
    }
    return outcomes;
  }

  private static Record newer(Record current, Record incoming) {
    return incoming.version().isAfter(current.version()) ? incoming : current;
  }

  @Override
  public synchronized PaxosState paxos(String key) {
    return paxos.getOrDefault(key, PaxosState.NONE);
  }

  @Override
  public synchronized List<String> paxosKeys(String fromKey, int limit) {
    return paxos.tailMap(fromKey, true).keySet().stream().limit(limit).toList();
  }

  @Override
  public long sequence() {
    return 0L; // forgets everything anyway: a new replica id each start
  }

  @Override
  public synchronized void discardRecords() {
    records.clear();
    hints.clear();
    settled.clear();
    paxos.clear();
  }

  @Override
  public synchronized Snapshot snapshot() {
    MemoryStorage copy = new MemoryStorage();
    copy.records.putAll(records);
    copy.settled.putAll(settled);
    copy.paxos.putAll(paxos);
    return new Snapshot() {
      @Override
      public List<KeyedRecord> scan(String fromKey, int limit) {
        return copy.scan(fromKey, limit);
      }

      @Override
      public List<ScannedRecord> scanRaw(String fromKey, int limit) {
        return copy.scan(fromKey, limit).stream()
            .map(record -> new ScannedRecord(record.key(), Optional.of(record.record()))).toList();
      }

      @Override
      public List<ScannedPaxos> scanPaxos(String fromKey, int limit) {
        return copy.paxos.tailMap(fromKey, true).entrySet().stream().limit(limit)
            .map(entry -> new ScannedPaxos(entry.getKey(), Optional.of(entry.getValue()))).toList();
      }

      @Override
      public Optional<io.quorumkv.version.Version> settledVersion(String key) {
        return Optional.ofNullable(copy.settled.get(key)).map(SettledTombstone::version);
      }

      @Override
      public void close() {}
    };
  }

  @Override
  public synchronized List<KeyedRecord> scan(String fromKey, int limit) {
    List<KeyedRecord> page = new ArrayList<>(Math.min(limit, 1024));
    for (Map.Entry<String, Record> entry : records.tailMap(fromKey, true).entrySet()) {
      if (page.size() >= limit) {
        break;
      }
      page.add(new KeyedRecord(entry.getKey(), entry.getValue()));
    }
    return page;
  }

  @Override
  public synchronized Optional<byte[]> getMeta(String name) {
    return Optional.ofNullable(meta.get(name)).map(byte[]::clone);
  }

  @Override
  public synchronized void putMeta(String name, byte[] value) {
    checkRoom();
    meta.put(name, value.clone());
  }

  @Override
  public synchronized void putHint(Hint hint) {
    checkRoom();
    hints.put(hintKey(hint.target(), hint.key()), hint);
  }

  @Override
  public synchronized List<Hint> hints(String target, int limit) {
    return hints.subMap(hintKey(target, ""), true, hintKey(target, "\uffff"), true).values().stream()
        .limit(limit).toList();
  }

  @Override
  public synchronized List<Hint> allHints() {
    return List.copyOf(hints.values());
  }

  @Override
  public synchronized void deleteHint(String target, String key) {
    checkRoom();
    hints.remove(hintKey(target, key));
  }

  private static String hintKey(String target, String key) {
    return target + "\u0000" + key;
  }

  @Override
  public synchronized void putSettled(SettledTombstone tombstone) {
    checkRoom();
    settled.put(tombstone.key(), tombstone);
  }

  @Override
  public synchronized void deleteSettled(String key) {
    checkRoom();
    settled.remove(key);
  }

  @Override
  public synchronized List<SettledTombstone> allSettled() {
    return List.copyOf(settled.values());
  }

  @Override
  public synchronized boolean deleteIfHeld(String key, io.quorumkv.version.Version version) {
    checkRoom();
    Record held = records.get(key);
    if (held == null || !held.version().equals(version)) {
      return false;
    }
    records.remove(key);
    return true;
  }

  @Override
  public void sync() {
    // Nothing is ever durable here.
  }

  @Override
  public void close() {
    // Nothing to release.
  }
}
