package io.quorumkv.store;

import io.quorumkv.store.ReplicaProtocol.ListPage;
import io.quorumkv.store.ReplicaProtocol.Page;
import io.quorumkv.store.ReplicaProtocol.PageEntry;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.version.Version;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * A replica's page of a listing, as pure code over one storage snapshot
 * (docs/listing-watch-ttl.md, "Listing"): the records and the Paxos table merged in key order
 * (ascending UTF-8 bytes, RocksDB's order), so a conditional write that is accepted but has no
 * record yet is listed, and so is a key whose record or Paxos state is unreadable (as unknown).
 */
public final class ListPages {

  /**
   * The bytes a page's entries take at most, values apart: below the smallest stream frame a
   * replica can be configured with (the largest value plus 64 KiB, whatever the largest value),
   * so a page always travels on the replication stream.
   */
  public static final long ENTRY_BYTES_MAX = 48 * 1024;
  /**
   * The bytes of stored values a page may read (and decode) at most, listed or not: a page over
   * large values, with or without them, stops early rather than read a gigabyte.
   */
  static final long SCANNED_BYTES_MAX = 16L << 20;
  /** The bytes of values a local page carries at most (the first value always comes). */
  public static final long VALUE_BYTES_MAX = 4L << 20;
  /** Entries read from storage at a time. */
  static final int SCAN_CHUNK = 256;
  /**
   * Keys a page visits at most per key it may list: Paxos states with no proposal and no record
   * are skipped, and must not make one page scan without bound.
   */
  static final int VISITS_PER_ENTRY = 16;
  /** What an entry costs besides its key, encoded: a version, a digest, flags and field names. */
  private static final int ENTRY_OVERHEAD_BYTES = 80;

  private ListPages() {}

  public static Page page(Storage.Snapshot snapshot, ListPage request, Stamp stamp) {
    String from = compare(request.start(), request.prefix()) > 0 ? request.start() : request.prefix();
    // Chunks no bigger than the page needs: every record scanned is decoded, value and all.
    int chunk = Math.min(SCAN_CHUNK, request.limit() + 1);
    Cursor<ScannedRecord> records = new Cursor<>(from, chunk, snapshot::scanRaw, ScannedRecord::key);
    Cursor<ScannedPaxos> paxos = new Cursor<>(from, chunk, snapshot::scanPaxos, ScannedPaxos::key);
    long scannedBytes = 0;
    List<PageEntry> entries = new ArrayList<>();
    long entryBytes = 0;
    long valueBytes = 0;
    long visitsLeft = (long) VISITS_PER_ENTRY * request.limit();
    String covered = null; // the last key this page has accounted for, listed or skipped
    while (true) {
      String key = smaller(records.key(), paxos.key());
      if (key == null || !key.startsWith(request.prefix())) {
        return new Page(stamp, entries, Optional.empty()); // the end of the prefix
      }
      if (covered != null && (visitsLeft-- <= 0 || scannedBytes > SCANNED_BYTES_MAX)) {
        return new Page(stamp, entries, Optional.of(covered));
      }
      Optional<ScannedRecord> record = records.takeIf(key);
      Optional<ScannedPaxos> state = paxos.takeIf(key);
      boolean unknown = record.filter(scanned -> scanned.record().isEmpty()).isPresent()
          || state.filter(scanned -> scanned.state().isEmpty()).isPresent();
      boolean proposal = state.flatMap(ScannedPaxos::state).flatMap(PaxosState::accepted).isPresent();
      Optional<Record> held = record.flatMap(ScannedRecord::record);
      scannedBytes += held.filter(r -> !r.isTombstone()).map(r -> (long) r.value().length()).orElse(0L);
      if (held.isEmpty() && !proposal && !unknown) {
        covered = key;
        continue; // a Paxos state with no proposal and no record: nothing to list here
      }
      Optional<Value> value = request.values() ? held.filter(r -> !r.isTombstone()).map(Record::value)
          : Optional.empty();
      long size = key.getBytes(StandardCharsets.UTF_8).length + ENTRY_OVERHEAD_BYTES;
      long valueSize = value.map(Value::length).orElse(0);
      // The first entry always fits, whatever its size: a page never stops before listing one.
      if (!entries.isEmpty() && (entries.size() >= request.limit() || entryBytes + size > ENTRY_BYTES_MAX
          || valueBytes + valueSize > VALUE_BYTES_MAX)) {
        return new Page(stamp, entries, Optional.of(covered));
      }
      boolean promised = held.filter(Record::hasTtl).isPresent() && state.flatMap(ScannedPaxos::state)
          .flatMap(kept -> StoreCore.promiseAbove(kept, held, true)).isPresent();
      entries.add(new PageEntry(key, held.map(Record::version).orElse(Version.ZERO),
          Record.digestOf(held), proposal, unknown, value, held.map(Record::ttlMillis).orElse(0L), promised));
      entryBytes += size;
      valueBytes += valueSize;
      covered = key;
    }
  }

  /** Ascending UTF-8 byte order, as RocksDB orders keys (Java's String order differs past U+FFFF). */
  public static int compare(String a, String b) {
    return Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
  }

  private static String smaller(String a, String b) {
    if (a == null) {
      return b;
    }
    if (b == null) {
      return a;
    }
    return compare(a, b) <= 0 ? a : b;
  }

  /** Reads one scan of the snapshot in chunks, one key at a time. */
  private static final class Cursor<T> {
    private final java.util.function.BiFunction<String, Integer, List<T>> scan;
    private final java.util.function.Function<T, String> keyOf;
    private List<T> chunk;
    private int next;
    private boolean exhausted;

    private final int chunkSize;

    Cursor(String from, int chunkSize, java.util.function.BiFunction<String, Integer, List<T>> scan,
        java.util.function.Function<T, String> keyOf) {
      this.scan = scan;
      this.keyOf = keyOf;
      this.chunkSize = chunkSize;
      load(from);
    }

    private void load(String from) {
      chunk = scan.apply(from, chunkSize);
      next = 0;
      exhausted = chunk.size() < chunkSize;
    }

    /** The key under the cursor; null at the end. */
    String key() {
      if (next == chunk.size()) {
        if (exhausted || chunk.isEmpty()) {
          return null;
        }
        load(keyOf.apply(chunk.get(chunk.size() - 1)) + "\0"); // the key's successor
      }
      return next < chunk.size() ? keyOf.apply(chunk.get(next)) : null;
    }

    /** The entry under the cursor if it is {@code key}'s, moving past it. */
    Optional<T> takeIf(String key) {
      String current = key();
      if (current != null && current.equals(key)) {
        return Optional.of(chunk.get(next++));
      }
      return Optional.empty();
    }
  }
}
