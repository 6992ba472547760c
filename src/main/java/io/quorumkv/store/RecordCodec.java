package io.quorumkv.store;

import io.quorumkv.version.Version;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The on-disk form of a {@link Record}: a format byte, the version (hlc, replica id, 8 bytes
 * each, big-endian), a kind byte (value, tombstone, or value with TTL), for the last the TTL in
 * milliseconds (8 bytes), then the value bytes. A record without TTL encodes exactly as before
 * TTLs existed; the first record with one moves the data directory to format version 2
 * ({@link RocksDbStorage}), so an older build refuses the directory instead of quarantining
 * keys whose kind it does not know. Decoding checks
 * every field and builds a {@link Record}, whose constructor is the one definition of a valid
 * record, so a corrupt or foreign record fails as {@link CorruptRecordException} instead of
 * being served.
 */
final class RecordCodec {

  static final byte FORMAT = 1;
  private static final byte KIND_VALUE = 0;
  private static final byte KIND_TOMBSTONE = 1;
  private static final byte KIND_VALUE_WITH_TTL = 2;
  private static final int HEADER_BYTES = 1 + 8 + 8 + 1;

  private RecordCodec() {}

  static byte[] encode(Record record) {
    int valueBytes = record.isTombstone() ? 0 : record.value().length();
    int ttlBytes = record.hasTtl() ? Long.BYTES : 0;
    ByteBuffer buffer = ByteBuffer.allocate(HEADER_BYTES + ttlBytes + valueBytes);
    buffer.put(FORMAT)
        .putLong(record.version().hlc())
        .putLong(record.version().replicaId())
        .put(record.isTombstone() ? KIND_TOMBSTONE : record.hasTtl() ? KIND_VALUE_WITH_TTL : KIND_VALUE);
    if (record.hasTtl()) {
      buffer.putLong(record.ttlMillis());
    }
    if (!record.isTombstone()) {
      buffer.put(record.value().bytes());
    }
    return buffer.array();
  }

  /** @throws CorruptRecordException when {@code bytes} is not a valid record of this format */
  static Record decode(String key, byte[] bytes) {
    if (bytes.length < HEADER_BYTES || bytes[0] != FORMAT) {
      throw new CorruptRecordException(key, "record of key [" + key + "] has an unknown format");
    }
    ByteBuffer buffer = ByteBuffer.wrap(bytes);
    buffer.get();
    long hlc = buffer.getLong();
    long replicaId = buffer.getLong();
    byte kind = buffer.get();
    if (kind != KIND_VALUE && kind != KIND_TOMBSTONE && kind != KIND_VALUE_WITH_TTL
        || (kind == KIND_TOMBSTONE && bytes.length != HEADER_BYTES)
        || (kind == KIND_VALUE_WITH_TTL && bytes.length < HEADER_BYTES + Long.BYTES)) {
      throw new CorruptRecordException(key, "record of key [" + key + "] is corrupt");
    }
    try {
      Version version = new Version(hlc, replicaId);
      if (kind == KIND_TOMBSTONE) {
        return Record.tombstone(version);
      }
      long ttlMillis = kind == KIND_VALUE_WITH_TTL ? buffer.getLong() : 0L;
      if (kind == KIND_VALUE_WITH_TTL && ttlMillis == 0) {
        throw new IllegalArgumentException("a record of the TTL kind has none");
      }
      return new Record(version, Value.wrap(Arrays.copyOfRange(bytes, buffer.position(), bytes.length)), ttlMillis);
    } catch (IllegalArgumentException e) {
      throw new CorruptRecordException(key, "record of key [" + key + "] is not valid: " + e.getMessage());
    }
  }
}
