package io.quorumkv.membership;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Tells two live processes with one replica id from a restart (docs/identity.md, rule 2): each
 * time call (from a peer address) names its caller's replica id and boot nonce; two nonces of
 * one id, each seen at least {@link #SIGHTINGS_MIN} times within {@link #WINDOW_NANOS}, whose
 * sightings interleave (each seen after the other was first seen) are two processes. A restarted
 * process's old nonce stops before the new one starts, so a restart, however fast, never looks
 * like that; one forged call is one sighting. Bounded: ids and nonces older than the window
 * are forgotten. Thread-safe.
 */
public final class DuplicateDetector {

  static final int SIGHTINGS_MIN = 3;
  static final long WINDOW_NANOS = 30_000_000_000L;
  private static final int NONCES_PER_ID_MAX = 8;
  private static final int IDS_MAX = 64;

  private record Sighting(long firstNanos, long lastNanos, int count) {}

  private final Map<Long, Map<Long, Sighting>> byId = new HashMap<>();
  private final LongSupplier nanoTime;

  public DuplicateDetector(LongSupplier nanoTime) {
    this.nanoTime = nanoTime;
  }

  public DuplicateDetector() {
    this(System::nanoTime);
  }

  /** A time call from {@code replicaId} in process {@code nonce}; returns whether that id is duplicated. */
  public synchronized boolean sighted(long replicaId, long nonce) {
    long now = nanoTime.getAsLong();
    forgetOlderThan(now - WINDOW_NANOS);
    Map<Long, Sighting> nonces = byId.get(replicaId);
    if (nonces == null) {
      if (byId.size() >= IDS_MAX) {
        return false; // a flood of ids: judged once the old ones age out
      }
      nonces = new HashMap<>();
      byId.put(replicaId, nonces);
    }
    Sighting known = nonces.get(nonce);
    if (known == null && nonces.size() < NONCES_PER_ID_MAX) {
      nonces.put(nonce, new Sighting(now, now, 1));
    } else if (known != null) {
      nonces.put(nonce, new Sighting(known.firstNanos(), now, known.count() + 1));
    }
    return isDuplicated(nonces);
  }

  /** Whether {@code replicaId} is seen in two live processes now. */
  public synchronized boolean isDuplicated(long replicaId) {
    forgetOlderThan(nanoTime.getAsLong() - WINDOW_NANOS);
    Map<Long, Sighting> nonces = byId.get(replicaId);
    return nonces != null && isDuplicated(nonces);
  }

  /** The ids seen in two live processes now. */
  public synchronized java.util.List<Long> duplicatedIds() {
    forgetOlderThan(nanoTime.getAsLong() - WINDOW_NANOS);
    return byId.entrySet().stream().filter(entry -> isDuplicated(entry.getValue())).map(Map.Entry::getKey).toList();
  }

  private static boolean isDuplicated(Map<Long, Sighting> nonces) {
    Sighting[] seen = nonces.values().stream().filter(s -> s.count() >= SIGHTINGS_MIN).toArray(Sighting[]::new);
    for (int i = 0; i < seen.length; i++) {
      for (int j = i + 1; j < seen.length; j++) {
        if (seen[i].lastNanos() > seen[j].firstNanos() && seen[j].lastNanos() > seen[i].firstNanos()) {
          return true;
        }
      }
    }
    return false;
  }

  private void forgetOlderThan(long oldestNanos) {
    for (Iterator<Map<Long, Sighting>> ids = byId.values().iterator(); ids.hasNext(); ) {
      Map<Long, Sighting> nonces = ids.next();
      nonces.values().removeIf(sighting -> sighting.lastNanos() < oldestNanos);
      if (nonces.isEmpty()) {
        ids.remove();
      }
    }
  }
}
