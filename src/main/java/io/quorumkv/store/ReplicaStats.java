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
  private final AtomicLong readsStartedOver = new AtomicLong();
  private final AtomicLong digestConflicts = new AtomicLong();
  private final AtomicLong staleMessagesIgnored = new AtomicLong();
  private final AtomicLong tombstonesPurged = new AtomicLong();
  private final AtomicLong paxosStatesForgotten = new AtomicLong();
  private final AtomicLong commits = new AtomicLong();
  private final AtomicLong commitNanos = new AtomicLong();
  private final AtomicLong corruptRecords = new AtomicLong();
  private final AtomicLong fastRoundsChosen = new AtomicLong();
  private final AtomicLong fastRoundsFellBack = new AtomicLong();
  /** Told each batch write's duration (the metrics' histogram); set once at start. */
  private volatile java.util.function.LongConsumer commitListener = nanos -> { };
  private final io.quorumkv.logging.RateLimitedLog corruptionLog =
      new io.quorumkv.logging.RateLimitedLog(log, java.time.Duration.ofSeconds(10));

  /** A stored record could not be decoded: its key is quarantined until a valid record replaces it. */
  public void corruptRecordFound(CorruptRecordException e) {
    corruptRecords.incrementAndGet();
    corruptionLog.error("ALARM: {}; the key answers unavailable until a peer's record replaces it", e.getMessage());
  }

  public long corruptRecords() {
    return corruptRecords.get();
  }

  /** A storage batch write (synced under fsync = always) took {@code nanos}. */
  public void committed(long nanos) {
    commits.incrementAndGet();
    commitNanos.addAndGet(nanos);
    commitListener.accept(nanos);
  }

  /** {@code listener} is told the duration of every batch write from now on. */
  public void onCommit(java.util.function.LongConsumer listener) {
    commitListener = listener;
  }

  public long commits() {
    return commits.get();
  }

  public long commitNanos() {
    return commitNanos.get();
  }

  public long readWriteBacks() {
    return readWriteBacks.get();
  }

  public long readRepairs() {
    return readRepairs.get();
  }

  public long readsStartedOver() {
    return readsStartedOver.get();
  }

  public long tombstonesPurged() {
    return tombstonesPurged.get();
  }

  public long staleMessagesIgnored() {
    return staleMessagesIgnored.get();
  }

  /** A settled tombstone was old enough and is gone. */
  public void tombstonePurged() {
    tombstonesPurged.incrementAndGet();
  }

  /** A key's Paxos state (promise, committed ballot) was old enough, with no proposal anywhere, and is gone. */
  public void paxosStateForgotten() {
    paxosStatesForgotten.incrementAndGet();
  }

  public long paxosStatesForgotten() {
    return paxosStatesForgotten.get();
  }

  /** An Apply older than max-message-age arrived and was not applied. */
  public void staleMessageIgnored() {
    staleMessagesIgnored.incrementAndGet();
  }

  /** A read found fewer than W replicas holding the newest record and wrote it back first. */
  public void readWroteBack() {
    readWriteBacks.incrementAndGet();
  }

  /** A conditional write coordinated here was chosen by its fast round (every replica took it). */
  public void fastRoundChosen() {
    fastRoundsChosen.incrementAndGet();
  }

  /** A conditional write coordinated here tried the fast round and fell back to the classic round. */
  public void fastRoundFellBack() {
    fastRoundsFellBack.incrementAndGet();
  }

  public long fastRoundsChosen() {
    return fastRoundsChosen.get();
  }

  public long fastRoundsFellBack() {
    return fastRoundsFellBack.get();
  }

  /**
   * A read saw a replica holding a record newer than the one it chose, before its reply, and read
   * again (a key changing under it, or a settled tombstone it had taken for absence).
   */
  public void readStartedOver() {
    readsStartedOver.incrementAndGet();
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
    counters.put("readsStartedOver", readsStartedOver.get());
    counters.put("digestConflicts", digestConflicts.get());
    counters.put("staleMessagesIgnored", staleMessagesIgnored.get());
    counters.put("tombstonesPurged", tombstonesPurged.get());
    counters.put("corruptRecords", corruptRecords.get());
    counters.put("fastRoundsChosen", fastRoundsChosen.get());
    counters.put("fastRoundsFellBack", fastRoundsFellBack.get());
    return counters;
  }
}
