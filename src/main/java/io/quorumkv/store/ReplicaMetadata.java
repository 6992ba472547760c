package io.quorumkv.store;

import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.Optional;

/**
 * The replica's identity and clock mark, kept in the storage's metadata so they survive
 * restarts: a random 64-bit replica id created with the data directory and never reused, and
 * the durable clock mark no version may reach without a new mark (DESIGN.md section 5).
 */
public final class ReplicaMetadata {

  static final String REPLICA_ID = "replica-id";
  static final String CLOCK_MARK = "clock-mark";

  private ReplicaMetadata() {}

  /** The replica id held in {@code storage}, created (and stored durably) on first use. */
  public static long replicaId(Storage storage) {
    Optional<byte[]> stored = storage.getMeta(REPLICA_ID);
    if (stored.isPresent()) {
      return decode(stored.get(), REPLICA_ID);
    }
    long id = new SecureRandom().nextLong();
    storage.putMeta(REPLICA_ID, encode(id));
    return id;
  }

  /** The last durable clock mark, 0 for a new data directory. */
  public static long clockMark(Storage storage) {
    return storage.getMeta(CLOCK_MARK).map(bytes -> decode(bytes, CLOCK_MARK)).orElse(0L);
  }

  public static void saveClockMark(Storage storage, long mark) {
    storage.putMeta(CLOCK_MARK, encode(mark));
  }

  private static byte[] encode(long value) {
    return ByteBuffer.allocate(Long.BYTES).putLong(value).array();
  }

  private static long decode(byte[] bytes, String name) {
    if (bytes.length != Long.BYTES) {
      throw new StorageUnusableException("metadata " + name + " is corrupt", null);
    }
    return ByteBuffer.wrap(bytes).getLong();
  }
}
