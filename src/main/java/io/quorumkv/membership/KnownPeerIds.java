package io.quorumkv.membership;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/**
 * The replica id this replica last saw for each peer name, kept across restarts. Ping answers
 * carry it, so a replica that comes back on a new data directory learns that its place was held
 * by another id before (see {@code Incarnation}). Written by the peer monitors, read by the
 * ping route.
 */
public final class KnownPeerIds {

  private final Map<String, Long> ids;
  private final BiConsumer<String, Long> persist;

  /** @param persist stores a changed id durably before it is shown to anyone */
  public KnownPeerIds(Map<String, Long> initial, BiConsumer<String, Long> persist) {
    this.ids = new ConcurrentHashMap<>(initial);
    this.persist = persist;
  }

  /** A ping showed {@code replicaId} at {@code peerName}. */
  public void seen(String peerName, long replicaId) {
    Long previous = ids.get(peerName);
    if (previous == null || previous != replicaId) {
      persist.accept(peerName, replicaId);
      ids.put(peerName, replicaId);
    }
  }

  public Map<String, Long> snapshot() {
    return Map.copyOf(ids);
  }
}
