package io.quorumkv.store;

import io.quorumkv.version.HybridLogicalClock;
import io.quorumkv.version.Version;
import java.util.Optional;

/**
 * What a replica holds for a key: a value or a tombstone, at a version (docs/design.md, "Versions").
 *
 * @param value the value, or {@code null} for a tombstone (use {@link #tombstone})
 * @param ttlMillis how long after its version's time the value expires, 0 for never
 *     (docs/listing-watch-ttl.md, "Expiring keys"): a duration, not an absolute time, so every
 *     replica derives the same expiry and nothing on the wire looks like a clock reading
 */
public record Record(Version version, Value value, long ttlMillis) {

  /** The digest of every tombstone: a tombstone carries no bytes, so equal versions agree. */
  public static final long TOMBSTONE_DIGEST = 0L;
  /** The shortest TTL a write may carry. */
  public static final long TTL_MIN_MILLIS = 1_000L;
  /** The longest: ten years of 365.25 days. */
  public static final long TTL_MAX_MILLIS = 315_576_000_000L;

  /**
   * The one definition of a valid record, shared by the wire, the replication stream and the
   * disk codec (each builds a Record, so none can accept what another refuses): a version above
   * zero, since {@link Version#ZERO} stands for "absent" and a clock never issues it.
   */
  public Record {
    if (version == null) {
      throw new IllegalArgumentException("a record needs a version");
    }
    if (version.hlc() <= 0) {
      throw new IllegalArgumentException("a record's version must be above zero, not " + version);
    }
    if (ttlMillis != 0 && (value == null || ttlMillis < TTL_MIN_MILLIS || ttlMillis > TTL_MAX_MILLIS)) {
      throw new IllegalArgumentException(value == null ? "a tombstone has no ttl"
          : "a ttl must be 0 or between " + TTL_MIN_MILLIS + " and " + TTL_MAX_MILLIS + " ms, not " + ttlMillis);
    }
  }

  /** A record that never expires. */
  public Record(Version version, Value value) {
    this(version, value, 0L);
  }

  public static Record of(Version version, Value value) {
    if (value == null) {
      throw new IllegalArgumentException("use Record.tombstone for a delete");
    }
    return new Record(version, value);
  }

  public static Record tombstone(Version version) {
    return new Record(version, null);
  }

  public boolean isTombstone() {
    return value == null;
  }

  public boolean hasTtl() {
    return ttlMillis != 0;
  }

  /**
   * When the value expires, in milliseconds since the epoch by the clock that issued the version:
   * its time plus the TTL ({@link Long#MAX_VALUE} for a record without one).
   */
  public long expiresAtMillis() {
    return ttlMillis == 0 ? Long.MAX_VALUE : HybridLogicalClock.millisOf(version.hlc()) + ttlMillis;
  }

  /**
   * Whether a reader whose clock reads {@code clockMillis} takes this record as absent: a
   * tombstone, or a value whose expiry has passed. Only a round's coordinator asks, once it has
   * chosen the record by the raw rules (docs/listing-watch-ttl.md, "Expiring keys").
   */
  public boolean isAbsentAt(long clockMillis) {
    return value == null || clockMillis >= expiresAtMillis();
  }

  public Optional<Value> valueIfPresent() {
    return Optional.ofNullable(value);
  }

  /**
   * The value's digest, or for a value with a TTL the first 64 bits of SHA-256 over the value's
   * digest and the TTL: two records of one version that differ in their TTL must not agree, and
   * no client may choose a TTL that makes a value's digest the tombstones' (a mix that can be
   * inverted would let it; 0 is moved to 1 besides). A record without TTL keeps the digest it
   * always had.
   */
  public long digest() {
    if (value == null) {
      return TOMBSTONE_DIGEST;
    }
    if (ttlMillis == 0) {
      return value.digest();
    }
    long mixed = Value.digestOf(java.nio.ByteBuffer.allocate(2 * Long.BYTES)
        .putLong(value.digest()).putLong(ttlMillis).array());
    return mixed == TOMBSTONE_DIGEST ? 1L : mixed;
  }

  /** The version of {@code record}, or {@link Version#ZERO} when the key is absent. */
  public static Version versionOf(Optional<Record> record) {
    return record.map(Record::version).orElse(Version.ZERO);
  }

  /** The digest of {@code record}, or the tombstone digest when the key is absent. */
  public static long digestOf(Optional<Record> record) {
    return record.map(Record::digest).orElse(TOMBSTONE_DIGEST);
  }
}
