package io.quorumkv.store;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Whether this replica's storage takes writes now, shared by the {@link StoreActor} (which
 * alone changes it) and the coordinators, {@code /cluster}, {@code /health} and the metrics.
 *
 * <ul>
 *   <li><b>ok</b>: writes are taken.
 *   <li><b>over quota</b>: the data directory takes at least {@code storage.bytes-max} bytes.
 *       Values are refused, deletes are taken: as with etcd's space quota, deleting is how an
 *       operator makes room (the space returns once the tombstones are purged and compacted).
 *   <li><b>disk full</b>: a write failed with ENOSPC. Every write is refused until a probe
 *       write succeeds again (RocksDB recovers once there is room).
 * </ul>
 *
 * Reads go on in every state. A refused write changes nothing on this replica: the caller hears
 * "unavailable" (a peer's apply) or 503 {@code phase=storage} (a client's write, not applied).
 */
public final class StorageAlarm {

  /** No quota: {@code storage.bytes-max = 0}. */
  public static final long NO_QUOTA = 0L;

  private final long bytesMax;
  private volatile boolean diskFull;
  private volatile String diskFullDetail = "";
  private volatile boolean overQuota;
  private volatile long bytesOnDisk;
  private final AtomicLong refusals = new AtomicLong();

  /** @param bytesMax the quota in bytes, or {@link #NO_QUOTA} */
  public StorageAlarm(long bytesMax) {
    if (bytesMax < 0) {
      throw new IllegalArgumentException("bytes-max is never negative: " + bytesMax);
    }
    this.bytesMax = bytesMax;
  }

  /**
   * Why a write is refused now, if it is: every write on a full disk, a value over the quota.
   * Counts the refusal.
   */
  public Optional<String> refusal(boolean tombstone) {
    Optional<String> reason = reason(tombstone);
    if (reason.isPresent()) {
      refusals.incrementAndGet();
    }
    return reason;
  }

  private Optional<String> reason(boolean tombstone) {
    if (diskFull) {
      return Optional.of("storage full: the disk under this replica's data directory is full; writes resume"
          + " by themselves once there is room");
    }
    if (overQuota && !tombstone) {
      return Optional.of("storage quota reached: the data directory takes " + bytesOnDisk + " bytes, storage.bytes-max is "
          + bytesMax + "; deletes are still taken");
    }
    return Optional.empty();
  }

  /** Whether any write is refused now (for {@code /health} and the metrics). */
  public boolean refusesWrites() {
    return diskFull || overQuota;
  }

  public boolean isDiskFull() {
    return diskFull;
  }

  /** Writes refused so far, by the store and the coordinators. */
  public long refusals() {
    return refusals.get();
  }

  public long bytesOnDisk() {
    return bytesOnDisk;
  }

  public long bytesMax() {
    return bytesMax;
  }

  /** A write failed for lack of space; returns whether this is news (the state changed). */
  boolean diskFull(String detail) {
    diskFullDetail = detail;
    boolean news = !diskFull;
    diskFull = true;
    return news;
  }

  /** A probe write succeeded: there is room again. Returns whether this is news. */
  boolean diskWritable() {
    boolean news = diskFull;
    diskFull = false;
    return news;
  }

  /** The size measured now; returns whether the quota state changed. */
  boolean measured(long bytes) {
    bytesOnDisk = bytes;
    boolean over = bytesMax != NO_QUOTA && bytes >= bytesMax;
    boolean news = over != overQuota;
    overQuota = over;
    return news;
  }

  /** The {@code storage} object of {@code /cluster} and {@code /health}. */
  public Map<String, Object> render() {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("writes", diskFull ? "refused: disk full" : overQuota ? "values refused: quota reached" : "ok");
    if (diskFull) {
      body.put("error", diskFullDetail);
    }
    body.put("bytesOnDisk", bytesOnDisk);
    body.put("bytesMax", bytesMax == NO_QUOTA ? null : bytesMax);
    body.put("writesRefused", refusals.get());
    return body;
  }
}
