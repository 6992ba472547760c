package io.quorumkv.store;

import io.quorumkv.version.Version;
import java.util.Optional;

/**
 * What a replica holds for a key: a value or a tombstone, at a version (docs/design.md, "Versions").
 *
 * @param value the value, or {@code null} for a tombstone (use {@link #tombstone})
 */
public record Record(Version version, Value value) {

  /** The digest of every tombstone: a tombstone carries no bytes, so equal versions agree. */
  public static final long TOMBSTONE_DIGEST = 0L;

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

  public Optional<Value> valueIfPresent() {
    return Optional.ofNullable(value);
  }

  public long digest() {
    return value == null ? TOMBSTONE_DIGEST : value.digest();
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
