package io.quorumkv.store;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The anti-entropy summary of one replica (docs/design.md, "Convergence"): 1024 buckets by key hash,
 * each the XOR of a 128-bit hash of {@code (key, version, value digest)} over the bucket's
 * records. XOR makes it incremental — applying a record XORs the old record's hash out and the
 * new one's in — and independent of the order in which records arrived, so two replicas
 * holding the same records have equal buckets. Not thread-safe: the StoreActor owns it.
 */
public final class BucketHashes {

  public static final int BUCKETS = 1024;
  private static final long SEED_HIGH = 0x9E3779B97F4A7C15L;
  private static final long SEED_LOW = 0xC2B2AE3D27D4EB4FL;
  private static final int SCAN_PAGE = 1024;

  private final long[] hashes = new long[BUCKETS * 2];

  /** Recomputes every bucket from what {@code storage} holds. */
  public static BucketHashes rebuild(Storage storage) {
    return rebuild(storage, entry -> true);
  }

  /** Recomputes every bucket from the records of {@code storage} that {@code counts} accepts. */
  public static BucketHashes rebuild(Storage storage, java.util.function.Predicate<KeyedRecord> counts) {
    BucketHashes buckets = new BucketHashes();
    String from = "";
    while (true) {
      List<KeyedRecord> page = storage.scan(from, SCAN_PAGE);
      for (KeyedRecord entry : page) {
        if (counts.test(entry)) {
          buckets.toggle(entry.key(), entry.record());
        }
      }
      if (page.size() < SCAN_PAGE) {
        return buckets;
      }
      from = page.get(page.size() - 1).key() + "\0"; // the smallest key after the last one
    }
  }

  public static int bucketOf(String key) {
    return (int) (mix(keyHash(key)) & (BUCKETS - 1));
  }

  /** Accounts for an apply: {@code before} leaves the bucket, {@code after} joins it. */
  public void replace(String key, Optional<Record> before, Record after) {
    before.ifPresent(record -> toggle(key, record));
    toggle(key, after);
  }

  /** XORs the record's hash into (or, a second time, out of) its bucket. */
  public void toggle(String key, Record record) {
    long keyHash = keyHash(key);
    int bucket = (int) (mix(keyHash) & (BUCKETS - 1));
    hashes[2 * bucket] ^= recordHash(SEED_HIGH, keyHash, record);
    hashes[2 * bucket + 1] ^= recordHash(SEED_LOW, keyHash, record);
  }

  /** A copy of all buckets: {@code [2b]} and {@code [2b+1]} are bucket b's high and low halves. */
  public long[] snapshot() {
    return hashes.clone();
  }

  /** The buckets in which two snapshots differ, ascending. */
  public static List<Integer> differing(long[] ours, long[] theirs) {
    if (ours.length != BUCKETS * 2 || theirs.length != BUCKETS * 2) {
      throw new IllegalArgumentException("bucket snapshots have " + BUCKETS * 2 + " longs");
    }
    List<Integer> buckets = new ArrayList<>();
    for (int bucket = 0; bucket < BUCKETS; bucket++) {
      if (ours[2 * bucket] != theirs[2 * bucket] || ours[2 * bucket + 1] != theirs[2 * bucket + 1]) {
        buckets.add(bucket);
      }
    }
    return buckets;
  }

  private static long recordHash(long seed, long keyHash, Record record) {
    long hash = mix(seed ^ keyHash);
    hash = mix(hash ^ record.version().hlc());
    hash = mix(hash ^ record.version().replicaId());
    return mix(hash ^ record.digest());
  }

  /** FNV-1a over the key's UTF-8 bytes. */
  private static long keyHash(String key) {
    long hash = 0xcbf29ce484222325L;
    for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
      hash = (hash ^ (b & 0xff)) * 0x100000001b3L;
    }
    return hash;
  }

  /** MurmurHash3's 64-bit finaliser: every input bit affects every output bit. */
  private static long mix(long value) {
    long x = value;
    x = (x ^ (x >>> 33)) * 0xff51afd7ed558ccdL;
    x = (x ^ (x >>> 33)) * 0xc4ceb9fe1a85ec53L;
    return x ^ (x >>> 33);
  }
}
