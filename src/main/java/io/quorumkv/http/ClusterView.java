package io.quorumkv.http;

import io.quorumkv.labels.Labels;
import io.quorumkv.membership.Identity;
import io.quorumkv.membership.PeerStatus;
import io.quorumkv.membership.RetiredPeers;
import io.quorumkv.replication.AntiEntropyStatus;
import io.quorumkv.replication.HintStatus;
import io.quorumkv.store.Incarnation;
import io.quorumkv.store.ReplicaStats;
import io.quorumkv.version.ClockFence;
import io.quorumkv.version.Version;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What {@code GET /cluster} shows: this replica, its view of each peer, its counters. */
public record ClusterView(
    String nodeId, long replicaId, List<PeerStatus> peers, Map<String, AntiEntropyStatus> antiEntropy,
    Map<String, HintStatus> hints,
    Incarnation incarnation,
    RetiredPeers retired,
    ReplicaStats stats, int writeQuorum, int readQuorum, ClockFence clockFence, Identity identity,
    io.quorumkv.store.StorageAlarm storage) {

  /**
   * Whether this replica should get client traffic now ({@code GET /health/ready}), and why not.
   *
   * @param reasons empty when ready; else one line per unmet condition
   * @param reachableReplicas this replica and the peers answering its pings (retired ones excluded)
   */
  public record Readiness(boolean ready, List<String> reasons, int reachableReplicas) {}

  /**
   * Ready when its answers count toward quorums (the incarnation is ready), its clock is not
   * fenced, no identity alarm refuses its writes, no peer entry turns out to be itself, and a
   * write quorum is reachable: otherwise the requests it coordinated would fail, so a load
   * balancer should send them elsewhere. A replica that is not ready is still live. A reachable
   * peer counts even while it is itself not ready (its state is not in its pings): the
   * readiness of each replica is its own.
   */
  public Readiness readiness() {
    List<String> reasons = new ArrayList<>();
    if (!incarnation.isReady()) {
      reasons.add("incarnation " + Labels.of(incarnation.state())
          + ": this replica's answers count toward no quorum until its peers vouch for it or it has rebuilt");
    }
    clockFence.reason().ifPresent(reason -> reasons.add("clock fenced: " + reason));
    identity.alarm().reason().ifPresent(reason -> reasons.add("identity alarm, writes refused: " + reason));
    int reachable = 1;
    for (PeerStatus status : peers) {
      PeerStatus.Snapshot snapshot = status.snapshot();
      if (snapshot.replicaId() != null && snapshot.replicaId() == replicaId) {
        // Self-detection by address missed it (NAT, a published port, DNS not ready at start).
        reasons.add("peer " + snapshot.peer().name() + " (" + snapshot.peer().address() + ") answers with this"
            + " replica's own id: that PEER_* entry points at this replica itself; remove it or set NODE_ID");
      } else if (snapshot.reachable() && !retired.isRetired(snapshot.peer().name())) {
        reachable++;
      }
    }
    if (reachable < writeQuorum) {
      reasons.add("quorum unreachable: " + reachable + " of " + (peers.size() + 1) + " replicas reachable, "
          + writeQuorum + " needed");
    }
    return new Readiness(reasons.isEmpty(), List.copyOf(reasons), reachable);
  }

  /** The body of {@code /cluster}, as JSON-ready maps in a stable order. */
  public Map<String, Object> render() {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("node", nodeId);
    body.put("replicaId", Version.hex(replicaId));
    body.put("replicas", peers.size() + 1);
    body.put("writeQuorum", writeQuorum);
    body.put("readQuorum", readQuorum);
    body.put("incarnation", incarnation.render());
    body.put("clock", clockFence.render());
    body.put("identity", identity.render());
    body.put("storage", storage.render());
    List<Map<String, Object>> peerList = new ArrayList<>();
    for (PeerStatus status : peers) {
      PeerStatus.Snapshot snapshot = status.snapshot();
      Map<String, Object> peer = new LinkedHashMap<>();
      peer.put("name", snapshot.peer().name());
      peer.put("address", snapshot.peer().address());
      peer.put("reachable", snapshot.reachable());
      peer.put("retired", retired.isRetired(snapshot.peer().name()));
      peer.put("lastSeen", snapshot.lastSeen() == null ? null : snapshot.lastSeen().toString());
      peer.put("lastSeenMillisAgo", snapshot.lastSeen() == null
          ? null : Instant.now().toEpochMilli() - snapshot.lastSeen().toEpochMilli());
      peer.put("lastError", snapshot.lastError());
      peer.put("replicaId", snapshot.replicaId() == null ? null : Version.hex(snapshot.replicaId()));
      peer.put("identityChecksAnswered", snapshot.identityChecksAnswered());
      AntiEntropyStatus entropy = antiEntropy.get(snapshot.peer().name());
      peer.put("antiEntropy", entropy == null ? null : entropy.render());
      HintStatus hintStatus = hints.get(snapshot.peer().name());
      peer.put("hints", hintStatus == null ? null : hintStatus.render());
      peerList.add(peer);
    }
    body.put("peers", peerList);
    body.put("stats", stats.snapshot());
    return body;
  }
}
