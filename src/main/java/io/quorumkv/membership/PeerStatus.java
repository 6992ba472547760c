package io.quorumkv.membership;

import io.quorumkv.config.PeerAddress;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;

/**
 * This replica's view of one peer: reachable or not, when it last answered, the last error, and
 * how many identity checks it has answered. Updated by the PeerMonitor's pings and time calls and
 * read by {@code GET /cluster}; hence thread-safe, as one immutable snapshot swapped atomically.
 */
public final class PeerStatus {

  /**
   * One observation. {@code lastSeen} is null until the peer first answered.
   * {@code identityChecksAnswered} counts the time calls (which carry this replica's storage
   * sequence, see {@link Identity}) that the peer answered: once it has grown by two after a
   * write, the peer has been sent a sequence at or past that write. It kept it only if it counts
   * this replica's address as a peer's (docs/identity.md, "Known limits").
   */
  public record Snapshot(
      PeerAddress peer, boolean reachable, Instant lastSeen, String lastError, Long replicaId,
      long identityChecksAnswered) {}

  private final AtomicReference<Snapshot> current;

  public PeerStatus(PeerAddress peer) {
    this.current = new AtomicReference<>(new Snapshot(peer, false, null, "not contacted yet", null, 0));
  }

  public void answered(long replicaId) {
    current.updateAndGet(previous -> new Snapshot(
        previous.peer(), true, Instant.now(), null, replicaId, previous.identityChecksAnswered()));
  }

  public void failed(String reason) {
    current.updateAndGet(previous -> new Snapshot(
        previous.peer(), false, previous.lastSeen(), reason, previous.replicaId(),
        previous.identityChecksAnswered()));
  }

  /** The peer answered one time call, which carried this replica's storage sequence. */
  public void identityCheckAnswered() {
    current.updateAndGet(previous -> new Snapshot(
        previous.peer(), previous.reachable(), previous.lastSeen(), previous.lastError(),
        previous.replicaId(), previous.identityChecksAnswered() + 1));
  }

  public Snapshot snapshot() {
    return current.get();
  }
}
