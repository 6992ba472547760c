package io.quorumkv.membership;

import io.quorumkv.config.PeerAddress;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;

/**
 * This replica's view of one peer: reachable or not, when it last answered, the last error.
 * Updated by the PeerMonitor's pings and read
 * by {@code GET /cluster}; hence thread-safe, as one immutable snapshot swapped atomically.
 */
public final class PeerStatus {

  /** One observation. {@code lastSeen} is null until the peer first answered. */
  public record Snapshot(
      PeerAddress peer, boolean reachable, Instant lastSeen, String lastError, Long replicaId) {}

  private final AtomicReference<Snapshot> current;

  public PeerStatus(PeerAddress peer) {
    this.current = new AtomicReference<>(new Snapshot(peer, false, null, "not contacted yet", null));
  }

  public void answered(long replicaId) {
    current.updateAndGet(previous ->
        new Snapshot(previous.peer(), true, Instant.now(), null, replicaId));
  }

  public void failed(String reason) {
    current.updateAndGet(previous ->
        new Snapshot(previous.peer(), false, previous.lastSeen(), reason, previous.replicaId()));
  }

  public Snapshot snapshot() {
    return current.get();
  }
}
