package io.quorumkv.membership;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/**
 * Peers an operator declared permanently gone. A peer that never answers blocks tombstone
 * settlement (it might still hold an old value); retiring it lets settlement go on without it.
 * A retired replica may come back only on an empty data directory: it then rebuilds as a new
 * incarnation. Kept across restarts; written by the admin route, read by the tombstone sweeper.
 */
public final class RetiredPeers {

  private final Set<String> retired = ConcurrentHashMap.newKeySet();
  private final BiConsumer<String, Boolean> persist;

  /** @param persist stores (peer, retired) durably before the change takes effect */
  public RetiredPeers(Set<String> initial, BiConsumer<String, Boolean> persist) {
    this.retired.addAll(initial);
    this.persist = persist;
  }

  public void retire(String peer) {
    persist.accept(peer, true);
    retired.add(peer);
  }

  public void reinstate(String peer) {
    persist.accept(peer, false);
    retired.remove(peer);
  }

  public boolean isRetired(String peer) {
    return retired.contains(peer);
  }
}
