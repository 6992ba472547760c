package io.quorumkv.membership;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * What each peer's build supports, as its last definite answer to a {@code Capabilities} request
 * said (docs/operating.md, "Upgrading"). The answer is kept while the peer is unreachable (a
 * replica down must not stop TTL writes that the other two can take), and the peer is asked again
 * when it comes back or shows another replica id (it may run another build now); only a definite
 * answer replaces the one kept. A peer never heard from counts as supporting nothing new; a
 * retired peer (gone for good) is not waited for. Written by the peer monitors, read by the routes.
 */
public final class PeerCapabilities {

  private record Known(long replicaId, Set<String> capabilities) {}

  private final List<String> peers;
  private final Predicate<String> retired;
  private final Map<String, Known> known = new ConcurrentHashMap<>();

  /**
   * @param peers the names of every peer this replica has
   * @param retired whether a peer is retired now
   */
  public PeerCapabilities(List<String> peers, Predicate<String> retired) {
    this.peers = List.copyOf(peers);
    this.retired = retired;
  }

  /** Whether {@code peer}, answering pings as {@code replicaId}, was never asked under that id. */
  public boolean needsAsking(String peer, long replicaId) {
    Known held = known.get(peer);
    return held == null || held.replicaId() != replicaId;
  }

  /** {@code peer}, as {@code replicaId}, supports {@code capabilities}. */
  public void answered(String peer, long replicaId, List<String> capabilities) {
    known.put(peer, new Known(replicaId, Set.copyOf(capabilities)));
  }

  /** Tests only: {@code peer} as never heard from. */
  void forget(String peer) {
    known.remove(peer);
  }

  /** The first peer not known to support {@code capability}, if any. */
  public Optional<String> lacking(String capability) {
    return peers.stream()
        .filter(peer -> !retired.test(peer))
        .filter(peer -> {
          Known held = known.get(peer);
          return held == null || !held.capabilities().contains(capability);
        })
        .findFirst();
  }
}
