package io.quorumkv.http;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.quorumkv.config.PeerAddress;
import io.quorumkv.membership.DuplicateDetector;
import io.quorumkv.membership.Identity;
import io.quorumkv.membership.IdentityAlarm;
import io.quorumkv.membership.KnownPeerIds;
import io.quorumkv.membership.PeerSequences;
import io.quorumkv.membership.PeerStatus;
import io.quorumkv.membership.RetiredPeers;
import io.quorumkv.store.Incarnation;
import io.quorumkv.store.ReplicaStats;
import io.quorumkv.store.StorageAlarm;
import io.quorumkv.version.ClockFence;
import io.quorumkv.version.HybridLogicalClock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.Test;

/**
 * Goal: {@code /health/ready}'s rule. A replica is ready only when its incarnation is ready, its
 * clock is not fenced and a write quorum (itself included) is reachable; each unmet condition is
 * named.
 */
public class ReadinessTest {

  private final PeerStatus peer1 = new PeerStatus(new PeerAddress("peer1", "h1", 7000));
  private final PeerStatus peer2 = new PeerStatus(new PeerAddress("peer2", "h2", 7000));
  private final HybridLogicalClock clock = new HybridLogicalClock(System::currentTimeMillis, 0L, Duration.ofSeconds(5));
  private final ClockFence fence = new ClockFence(0, clock, Duration.ofMinutes(1));

  private ClusterView view(Incarnation.State state, Set<String> retired) {
    Incarnation incarnation = new Incarnation(1L, state, List.of("peer1", "peer2"), changed -> { });
    KnownPeerIds known = new KnownPeerIds(Map.of(), (name, ids) -> { });
    Identity identity = new Identity(1L, Long.MAX_VALUE, () -> 0L, incarnation, known, new PeerSequences(new byte[0]),
        new DuplicateDetector(), new IdentityAlarm(1L), reason -> { });
    return new ClusterView("peer0", 1L, List.of(peer1, peer2), Map.of(), Map.of(), incarnation,
        new RetiredPeers(retired, (name, isRetired) -> { }), new ReplicaStats(), 2, 2, fence, identity,
        new StorageAlarm(0));
  }

  @Test
  public void readyWithOnePeerReachable() {
    peer1.answered(2L);
    ClusterView.Readiness readiness = view(Incarnation.State.READY, Set.of()).readiness();
    assertTrue(readiness.reasons().toString(), readiness.ready());
    assertEquals(2, readiness.reachableReplicas());
  }

  @Test
  public void notReadyWithBothPeersDown() {
    peer1.answered(2L);
    peer1.failed("connection refused");
    ClusterView.Readiness readiness = view(Incarnation.State.READY, Set.of()).readiness();
    assertFalse(readiness.ready());
    assertEquals(List.of("quorum unreachable: 1 of 3 replicas reachable, 2 needed"), readiness.reasons());
  }

  @Test
  public void aPeerAnsweringWithThisReplicasOwnIdIsItselfAndNotReady() {
    peer1.answered(1L); // this replica's id: PEER_PEER1_* points back at it
    peer2.answered(3L);
    ClusterView.Readiness readiness = view(Incarnation.State.READY, Set.of()).readiness();
    assertFalse(readiness.ready());
    assertTrue(readiness.reasons().toString(), readiness.reasons().get(0).startsWith("peer peer1 (h1:7000) answers with"
        + " this replica's own id"));
  }

  @Test
  public void aRetiredPeerDoesNotCountTowardTheQuorum() {
    peer1.answered(2L);
    assertFalse(view(Incarnation.State.READY, Set.of("peer1")).readiness().ready());
  }

  @Test
  public void notReadyUntilTheIncarnationIsReadyNorWhileTheClockIsFenced() {
    peer1.answered(2L);
    peer2.answered(3L);
    ClusterView.Readiness unproven = view(Incarnation.State.UNPROVEN, Set.of()).readiness();
    assertFalse(unproven.ready());
    assertTrue(unproven.reasons().toString(), unproven.reasons().get(0).startsWith("incarnation unproven"));
    assertFalse(view(Incarnation.State.REBUILDING, Set.of()).readiness().ready());
    fence.halt("test: state went backwards");
    ClusterView.Readiness fenced = view(Incarnation.State.READY, Set.of()).readiness();
    assertFalse(fenced.ready());
    assertEquals(List.of("clock fenced: test: state went backwards"), fenced.reasons());
  }
}
