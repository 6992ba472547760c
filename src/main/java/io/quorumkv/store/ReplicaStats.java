package io.quorumkv.store;

import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counters of one replica's self-healing and alarms, shown by {@code GET /cluster}. Written by
 * the store and every coordinator, hence atomics.
 */
public final class ReplicaStats {

  private static final Logger log = LoggerFactory.getLogger(ReplicaStats.class);

  private final AtomicLong readWriteBacks = new AtomicLong();
  private final AtomicLong readRepairs = new AtomicLong();
  private final AtomicLong digestConflicts = new AtomicLong();
  private final AtomicLong staleMessagesIgnored = new AtomicLong();
  private final AtomicLong tombstonesPurged = new AtomicLong();

  /** A settled tombstone was old enough and is gone. */
  public void tombstonePurged() {
    tombstonesPurged.incrementAndGet();
  }

  /** An Apply older than max-message-age arrived and was not applied. */
  public void staleMessageIgnored() {
    staleMessagesIgnored.incrementAndGet();
  }

  /** A read found fewer than W replicas holding the newest record and wrote it back first. */
  public void readWroteBack() {
    readWriteBacks.incrementAndGet();
  }

  /** A read sent the newest record to a replica that answered late or stale, in the background. */
  public void readRepaired() {
    readRepairs.incrementAndGet();
  }

  /**
   * Two records at one version with different digests: versions are meant to be unique, so
   * this is corruption or a duplicated replica id. Raised loudly, never treated as agreement.
   */
  public void digestConflict(String key, Object version, String where) {
    digestConflicts.incrementAndGet();
    log.error("ALARM: two different values of key [{}] carry version [{}] ({})", key, version, where);
  }

  public long digestConflicts() {
    return digestConflicts.get();
  }

  public Map<String, Long> snapshot() {
    Map<String, Long> counters = new java.util.LinkedHashMap<>();
    counters.put("readWriteBacks", readWriteBacks.get());
    counters.put("readRepairs", readRepairs.get());
    counters.put("digestConflicts", digestConflicts.get());
    counters.put("staleMessagesIgnored", staleMessagesIgnored.get());
    counters.put("tombstonesPurged", tombstonesPurged.get());
    return counters;
  }
}
