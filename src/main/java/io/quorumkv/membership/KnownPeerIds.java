package io.quorumkv.membership;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/**
 * Every replica id this replica has seen for each peer name, oldest first, kept across
 * restarts. Ping answers carry it, so a replica that comes back on a new data directory learns
 * that its place was held by another id before (see {@code Incarnation}) — also when a peer
 * has already seen its new id. Written by the peer monitors, read by the ping route.
 */
public final class KnownPeerIds {

  /** Ids remembered per place; a place replaced more often than this forgets its oldest. */
  static final int HISTORY_MAX = 16;

  private final Map<String, List<Long>> ids;
  private final BiConsumer<String, List<Long>> persist;

  /** @param persist stores a changed history durably before it is shown to anyone */
  public KnownPeerIds(Map<String, List<Long>> initial, BiConsumer<String, List<Long>> persist) {
    this.ids = new ConcurrentHashMap<>(initial);
    this.persist = persist;
  }

  /** A ping showed {@code replicaId} at {@code peerName}. */
  public synchronized void seen(String peerName, long replicaId) {
    List<Long> history = ids.getOrDefault(peerName, List.of());
    if (history.contains(replicaId)) {
      return;
    }
    List<Long> updated = new ArrayList<>(history);
    updated.add(replicaId);
    if (updated.size() > HISTORY_MAX) {
      updated.remove(0);
    }
    try {
      persist.accept(peerName, List.copyOf(updated));
    } catch (io.quorumkv.store.StorageFullException e) {
      // Shown all the same: more ids known only ever make a peer rebuild, never vouch. Saved with
      // the next id seen; lost at a restart, as everything a crash loses here.
    }
    ids.put(peerName, List.copyOf(updated));
  }

  public Map<String, List<Long>> snapshot() {
    return Map.copyOf(ids);
  }
}
