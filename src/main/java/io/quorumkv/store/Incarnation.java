package io.quorumkv.store;

import java.time.Duration;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Whether this replica's answers may count toward quorums (docs/design.md, "Convergence", incarnations).
 *
 * <p>A replica whose data directory is new (empty, or replaced) may have lost writes it once
 * acknowledged under its old identity: if it counted at once, a quorum formed with it could
 * miss an acknowledged write. So a new data directory starts {@code UNPROVEN}: it answers the
 * replica protocol as unavailable (it still applies what it is sent) until its peers tell it
 * what they knew of its place in the cluster (ping answers list the replica ids a peer has
 * seen for each of its peers; time calls and answers carry a peer's state and the ids it saw
 * in this replica's place, see docs/identity.md, rule 3):
 * <ul>
 *   <li>a peer knew another replica id in this replica's place: this is a replacement, so it
 *       is {@code REBUILDING} until it has pulled everything from every peer, then {@code READY};
 *   <li>a {@code READY} peer vouches (it never saw anyone in this place, or saw this very id):
 *       it is a new member of a cluster and {@code READY} at once;
 *   <li>every peer has been heard from, each {@code UNPROVEN} and knowing no other id in this
 *       place: a brand-new cluster, nobody holds anything, {@code READY}.
 * </ul>
 * An {@code UNPROVEN} peer's empty history is no vouch: two wiped replicas must not vouch each
 * other into READY while the replica that holds the data has not been heard from.
 * The state is persisted at every change, so a replica that restarts while rebuilding goes on
 * rebuilding; one that restarts on its own proven data is {@code READY} at once. A replica that is not ready
 * pushes nothing (no hint replay, anti-entropy pulls only). Thread-safe (the peer monitors and
 * anti-entropy report from their own actors): changes are synchronized, reads see a volatile
 * snapshot. The {@code onReady} callback persists readiness.
 *
 * <p>A rebuilding replica becomes ready in three steps (docs/conditional-writes.md, "Replaced
 * replicas"): {@link Step#PULLING} a complete pull from every peer; {@link Step#WAITING} until
 * max-message-age plus the skew margin have passed since the rebuild began (no message of a
 * round the lost data directory took part in can still be taken anywhere) and every peer says it
 * holds no proposal from before then (each was committed on the peers, so a pull brings it);
 * {@link Step#FINAL_PULL} one more complete pull from every peer, which brings those records.
 * A restart while rebuilding begins again at the first step, later: it only waits longer.
 */
public final class Incarnation {

  public enum State { UNPROVEN, REBUILDING, READY }

  /** Where a rebuilding replica is on its way to ready. */
  public enum Step { PULLING, WAITING, FINAL_PULL }

  private record Snapshot(State state, Set<String> pulledFrom, Step step) {}

  /**
   * What a peer said of itself and of this replica's place: its state, and every replica id it
   * has seen there.
   */
  public record PeerView(State state, List<Long> idsInMyPlace) {}

  private final Map<String, PeerView> views = new java.util.HashMap<>();

  private final long replicaId;
  private final Set<String> peerNames;
  private final Consumer<State> onChange;
  private volatile Snapshot current;
  private final java.util.function.LongSupplier nowMillis;
  /** When this process began rebuilding (its wall clock); 0 before. */
  private volatile long rebuildStartedMillis;

  /**
   * @param initial the state persisted for this data directory (READY for one that proved itself)
   * @param peerNames the names this replica gives its peers
   * @param onChange persists each change of state before it takes effect for others
   */
  public Incarnation(long replicaId, State initial, Collection<String> peerNames, Consumer<State> onChange) {
    this(replicaId, initial, peerNames, onChange, System::currentTimeMillis);
  }

  /** @param nowMillis the wall clock the rebuild's wait is measured on */
  public Incarnation(long replicaId, State initial, Collection<String> peerNames, Consumer<State> onChange,
      java.util.function.LongSupplier nowMillis) {
    this.replicaId = replicaId;
    this.peerNames = Set.copyOf(peerNames);
    this.onChange = onChange;
    this.nowMillis = nowMillis;
    this.current = new Snapshot(peerNames.isEmpty() ? State.READY : initial, Set.of(), Step.PULLING);
    if (current.state() == State.REBUILDING) {
      rebuildStartedMillis = nowMillis.getAsLong();
    }
  }

  /** Where a rebuilding replica is (meaningful only while {@link State#REBUILDING}). */
  public Step step() {
    return current.step();
  }

  /**
   * While {@link Step#WAITING} and {@code wait} has passed since the rebuild began: the bound
   * (wall milliseconds) below which every ballot the lost data directory could have promised or
   * accepted lies, given clocks within {@code maxClockOffset}; the peers must hold no proposal
   * below it. Empty otherwise.
   */
  public Optional<Long> proposalBound(Duration wait, Duration maxClockOffset) {
    Snapshot now = current;
    if (now.state() != State.REBUILDING || now.step() != Step.WAITING
        || nowMillis.getAsLong() < rebuildStartedMillis + wait.toMillis()) {
      return Optional.empty();
    }
    return Optional.of(rebuildStartedMillis + maxClockOffset.toMillis());
  }

  /** Every peer holds no proposal below the bound: one more complete pull from every peer, then ready. */
  public synchronized void peersHoldNoOldProposal() {
    if (current.state() == State.REBUILDING && current.step() == Step.WAITING) {
      current = new Snapshot(State.REBUILDING, Set.of(), Step.FINAL_PULL);
    }
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
   * peers. Any other id ever seen there means this replica replaced it. (A ping answer does not
   * say the peer's state, so it vouches for nothing: see {@link #heardFrom(String, PeerView)}.)
   */
  public synchronized void pingAnswered(String peer, Map<String, List<Long>> knownIds) {
    if (state() != State.UNPROVEN) {
      return;
    }
    Optional<String> place = placeIn(knownIds.keySet(), peerNames);
    if (place.isPresent() && knownIds.get(place.get()).stream().anyMatch(id -> id != replicaId)) {
      rebuild();
    }
  }

  /** What {@code peer} (one of this replica's peer names) said in a time call or answer. */
  public synchronized void heardFrom(String peer, PeerView view) {
    if (state() != State.UNPROVEN || !peerNames.contains(peer)) {
      return;
    }
    views.put(peer, view);
    if (view.idsInMyPlace().stream().anyMatch(id -> id != replicaId)) {
      rebuild();
      return;
    }
    if (view.state() == State.READY) {
      becomeReady(); // a ready peer that never saw anyone else here vouches
      return;
    }
    boolean brandNew = views.keySet().containsAll(peerNames) && views.values().stream()
        .allMatch(seen -> seen.state() == State.UNPROVEN && seen.idsInMyPlace().stream().allMatch(id -> id == replicaId));
    if (brandNew) {
      becomeReady(); // every replica is new: nobody holds anything
    }
  }

  /**
   * This replica's place among {@code names} (another replica's peer names): the one name that
   * is not one of {@code ours}; empty when the names do not line up.
   */
  public static Optional<String> placeIn(Set<String> names, Set<String> ours) {
    Set<String> remaining = new HashSet<>(names);
    remaining.removeAll(ours);
    return remaining.size() == 1 ? Optional.of(remaining.iterator().next()) : Optional.empty();
  }

  public Set<String> peerNames() {
    return peerNames;
  }

  /**
   * Takes effect even when it cannot be persisted (a full disk): a rebuilding replica counts
   * toward no quorum, as an unproven one, and must never become ready by a vouch instead; after
   * a restart the peers show the other id again and it is rebuilt once more.
   */
  private void rebuild() {
    persisted(State.REBUILDING);
    rebuildStartedMillis = nowMillis.getAsLong();
    current = new Snapshot(State.REBUILDING, current.pulledFrom(), Step.PULLING);
  }

  /**
   * Persists a change; false on a full disk. Readiness must be persisted before it takes
   * effect, so it waits (the next message that calls for it tries again).
   */
  private boolean persisted(State next) {
    try {
      onChange.accept(next);
      return true;
    } catch (StorageFullException e) {
      return false;
    }
  }

  /** A complete anti-entropy pull from {@code peer} finished. */
  public synchronized void pulledEverythingFrom(String peer) {
    Snapshot now = current;
    if (now.state() != State.REBUILDING) {
      return;
    }
    if (now.step() == Step.WAITING) {
      return; // pulls count again only after the wait
    }
    Set<String> pulled = new HashSet<>(now.pulledFrom());
    pulled.add(peer);
    current = new Snapshot(State.REBUILDING, Set.copyOf(pulled), now.step());
    if (pulled.containsAll(peerNames)) {
      if (now.step() == Step.PULLING) {
        current = new Snapshot(State.REBUILDING, Set.of(), Step.WAITING);
      } else {
        becomeReady();
      }
    }
  }

  private void becomeReady() {
    if (current.state() != State.READY && persisted(State.READY)) {
      current = new Snapshot(State.READY, Set.of(), Step.PULLING);
    }
  }

  public Map<String, Object> render() {
    Snapshot now = current;
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("state", now.state().name().toLowerCase(java.util.Locale.ROOT));
    body.put("pulledFrom", now.pulledFrom().stream().sorted().toList());
    if (now.state() == State.REBUILDING) {
      body.put("step", io.quorumkv.labels.Labels.of(now.step()));
    }
    return body;
  }
}
