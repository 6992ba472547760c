package io.quorumkv.store;

import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Whether this replica's answers may count toward quorums (DESIGN.md section 8, incarnations).
 *
 * <p>A replica whose data directory is new (empty, or replaced) may have lost writes it once
 * acknowledged under its old identity: if it counted at once, a quorum formed with it could
 * miss an acknowledged write. So a new data directory starts {@code UNPROVEN}: it answers the
 * replica protocol as unavailable (it still applies what it is sent) until its peers tell it
 * what they knew of its place in the cluster (each ping answer lists the replica ids a peer
 * has seen for each of its peers):
 * <ul>
 *   <li>a peer knew another replica id in this replica's place: this is a replacement, so it
 *       is {@code REBUILDING} until it has pulled everything from every peer, then {@code READY};
 *   <li>otherwise, once a peer vouches (it never saw anyone in this place, or saw this very
 *       id), it is a new member of a new cluster and {@code READY} at once.
 * </ul>
 * The state is persisted at every change, so a replica that restarts while rebuilding goes on
 * rebuilding; one that restarts on its own proven data is {@code READY} at once. A replica that is not ready
 * pushes nothing (no hint replay, anti-entropy pulls only). Thread-safe (the peer monitors and
 * anti-entropy report from their own actors): changes are synchronized, reads see a volatile
 * snapshot. The {@code onReady} callback persists readiness.
 */
public final class Incarnation {

  public enum State { UNPROVEN, REBUILDING, READY }

  private record Snapshot(State state, Set<String> pulledFrom) {}

  private final long replicaId;
  private final Set<String> peerNames;
  private final Consumer<State> onChange;
  private volatile Snapshot current;

  /**
   * @param initial the state persisted for this data directory (READY for one that proved itself)
   * @param peerNames the names this replica gives its peers
   * @param onChange persists each change of state before it takes effect for others
   */
  public Incarnation(long replicaId, State initial, Collection<String> peerNames, Consumer<State> onChange) {
    this.replicaId = replicaId;
    this.peerNames = Set.copyOf(peerNames);
    this.onChange = onChange;
    this.current = new Snapshot(peerNames.isEmpty() ? State.READY : initial, Set.of());
  }

  public State state() {
    return current.state();
  }

  /** Whether this replica's answers count toward quorums (and it may push data). */
  public boolean isReady() {
    return state() == State.READY;
  }

  /**
   * A ping answer from {@code peer}: every replica id it has seen for each of its own peers.
   * This replica's place in that list is the one name that is not one of this replica's
   * peers. Any other id ever seen there means this replica replaced it.
   */
  public synchronized void heardFrom(String peer, Map<String, List<Long>> knownIds) {
    if (state() != State.UNPROVEN) {
      return;
    }
    Optional<String> place = placeIn(knownIds.keySet());
    if (place.isEmpty()) {
      return; // the peers' names do not line up with ours: this answer cannot tell
    }
    List<Long> seen = knownIds.get(place.get());
    if (seen.stream().anyMatch(id -> id != replicaId)) {
      onChange.accept(State.REBUILDING);
      current = new Snapshot(State.REBUILDING, current.pulledFrom());
      return;
    }
    becomeReady();
  }

  private Optional<String> placeIn(Set<String> names) {
    Set<String> remaining = new HashSet<>(names);
    remaining.removeAll(peerNames);
    return remaining.size() == 1 ? Optional.of(remaining.iterator().next()) : Optional.empty();
  }

  /** A complete anti-entropy pull from {@code peer} finished. */
  public synchronized void pulledEverythingFrom(String peer) {
    Snapshot now = current;
    if (now.state() != State.REBUILDING) {
      return;
    }
    Set<String> pulled = new HashSet<>(now.pulledFrom());
    pulled.add(peer);
    current = new Snapshot(State.REBUILDING, Set.copyOf(pulled));
    if (pulled.containsAll(peerNames)) {
      becomeReady();
    }
  }

  private void becomeReady() {
    if (current.state() != State.READY) {
      onChange.accept(State.READY);
      current = new Snapshot(State.READY, Set.of());
    }
  }

  public Map<String, Object> render() {
    Snapshot now = current;
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("state", now.state().name().toLowerCase(java.util.Locale.ROOT));
    body.put("pulledFrom", now.pulledFrom().stream().sorted().toList());
    return body;
  }
}
