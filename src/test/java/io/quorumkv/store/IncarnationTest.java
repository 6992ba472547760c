package io.quorumkv.store;

import static org.junit.Assert.assertEquals;

import io.quorumkv.store.Incarnation.PeerView;
import io.quorumkv.store.Incarnation.State;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.Test;
import static org.junit.Assert.assertTrue;
import java.time.Duration;
import java.util.Optional;

/**
 * Goal: the incarnation rule (docs/identity.md, rule 3). A replica on a new data directory
 * counts once a ready peer vouches for it, or once every peer is heard from and all are new (a
 * brand-new cluster); if a peer ever saw another id in its place (a replacement), once it has
 * pulled everything from every peer. An unproven peer's empty history vouches for nothing. Every
 * change is persisted, so a restart never skips a rebuild. This replica is "c"; its peers are
 * "a" and "b", and they name it "c" too.
 */
public class IncarnationTest {

  private static final long ID = 42L;
  private final List<State> persisted = new ArrayList<>();

  private Incarnation starting(State state) {
    return new Incarnation(ID, state, List.of("a", "b"), persisted::add);
  }

  @Test
  public void restartOnOwnProvenDataIsReadyAtOnce() {
    assertEquals(State.READY, starting(State.READY).state());
  }

  @Test
  public void onAFullDiskAReplacementStillRebuildsAndReadinessWaitsUntilItCanBePersisted() {
    boolean[] full = {true};
    Incarnation incarnation = new Incarnation(ID, State.UNPROVEN, List.of("a", "b"), state -> {
      if (full[0]) {
        throw new StorageFullException("no space left on device", null);
      }
      persisted.add(state);
    });
    // a knows another id in this place: rebuild, even though the state cannot be persisted
    incarnation.heardFrom("a", new Incarnation.PeerView(State.READY, List.of(7L)));
    assertEquals(State.REBUILDING, incarnation.state());
    // ...so a vouch from b can never make the replacement ready without its rebuild
    incarnation.heardFrom("b", new Incarnation.PeerView(State.READY, List.of()));
    assertEquals(State.REBUILDING, incarnation.state());

    incarnation.pulledEverythingFrom("a");
    incarnation.pulledEverythingFrom("b");
    incarnation.peersHoldNoOldProposal();
    incarnation.pulledEverythingFrom("a");
    incarnation.pulledEverythingFrom("b");
    assertEquals("readiness is never taken before it is durable", State.REBUILDING, incarnation.state());
    full[0] = false;
    incarnation.pulledEverythingFrom("b");
    assertEquals(State.READY, incarnation.state());
    assertEquals(List.of(State.READY), persisted);
  }

  @Test
  public void singleReplicaIsReadyAtOnce() {
    assertEquals(State.READY, new Incarnation(ID, State.UNPROVEN, List.of(), persisted::add).state());
  }

  @Test
  public void aReadyPeerThatNeverSawAnyoneElseHereVouches() {
    Incarnation incarnation = starting(State.UNPROVEN);
    incarnation.heardFrom("a", new PeerView(State.READY, List.of()));
    assertEquals(State.READY, incarnation.state());
    assertEquals(List.of(State.READY), persisted);
  }

  @Test
  public void aReadyPeerThatSawOnlyThisVeryIdVouches() {
    Incarnation incarnation = starting(State.UNPROVEN);
    incarnation.heardFrom("b", new PeerView(State.READY, List.of(ID)));
    assertEquals(State.READY, incarnation.state());
  }

  @Test
  public void twoWipedReplicasDoNotVouchForEachOtherWhileTheOneHoldingTheDataIsAway() {
    // Finding: an unproven peer's empty id list counted as a vouch.
    Incarnation incarnation = starting(State.UNPROVEN);
    incarnation.heardFrom("b", new PeerView(State.UNPROVEN, List.of()));
    incarnation.heardFrom("b", new PeerView(State.UNPROVEN, List.of(ID)));
    assertEquals(State.UNPROVEN, incarnation.state());
    // a, holding the data, comes back: it saw another id here, so c rebuilds.
    incarnation.heardFrom("a", new PeerView(State.READY, List.of(99L)));
    assertEquals(State.REBUILDING, incarnation.state());
  }

  @Test
  public void aBrandNewClusterIsReadyOnceEveryPeerIsHeardFromAndAllAreNew() {
    Incarnation incarnation = starting(State.UNPROVEN);
    incarnation.heardFrom("a", new PeerView(State.UNPROVEN, List.of(ID)));
    assertEquals(State.UNPROVEN, incarnation.state());
    incarnation.heardFrom("b", new PeerView(State.UNPROVEN, List.of()));
    assertEquals(State.READY, incarnation.state());
  }

  @Test
  public void aPingAnswerNeverVouchesButShowsAReplacement() {
    Incarnation incarnation = starting(State.UNPROVEN);
    incarnation.pingAnswered("a", Map.of("b", List.of(7L), "c", List.of())); // no state: no vouch
    assertEquals(State.UNPROVEN, incarnation.state());
    incarnation.pingAnswered("b", Map.of("a", List.of(7L), "c", List.of(99L, ID)));
    assertEquals(State.REBUILDING, incarnation.state());
    assertEquals(List.of(State.REBUILDING), persisted);
  }

  /**
   * A replacement pulls from every peer, waits out max-message-age and the skew margin, has every
   * peer say it holds no proposal from before the rebuild, pulls from every peer again, and only
   * then counts (docs/conditional-writes.md, "Replaced replicas").
   */
  @Test
  public void replacementRebuildsWaitsForItsPeersProposalsAndPullsAgainBeforeItCounts() {
    long[] now = {1_000_000L};
    Incarnation incarnation = new Incarnation(ID, State.UNPROVEN, List.of("a", "b"), persisted::add, () -> now[0]);
    incarnation.heardFrom("a", new PeerView(State.READY, List.of(99L))); // a knew someone else there
    assertEquals(State.REBUILDING, incarnation.state());
    incarnation.heardFrom("b", new PeerView(State.READY, List.of())); // b cannot vouch it away
    assertEquals(State.REBUILDING, incarnation.state());
    incarnation.pulledEverythingFrom("a");
    assertEquals(Incarnation.Step.PULLING, incarnation.step());
    incarnation.pulledEverythingFrom("b");
    assertEquals(State.REBUILDING, incarnation.state());
    assertEquals(Incarnation.Step.WAITING, incarnation.step());
    Duration wait = Duration.ofSeconds(120);
    assertTrue(incarnation.proposalBound(wait, Duration.ofSeconds(5)).isEmpty());
    incarnation.pulledEverythingFrom("a"); // pulls while waiting count for nothing
    now[0] += wait.toMillis();
    assertEquals(Optional.of(1_005_000L), incarnation.proposalBound(wait, Duration.ofSeconds(5)));
    incarnation.peersHoldNoOldProposal();
    assertEquals(Incarnation.Step.FINAL_PULL, incarnation.step());
    incarnation.pulledEverythingFrom("b");
    assertEquals(State.REBUILDING, incarnation.state());
    incarnation.pulledEverythingFrom("a");
    assertEquals(State.READY, incarnation.state());
    assertEquals(List.of(State.REBUILDING, State.READY), persisted);
  }

  @Test
  public void restartWhileRebuildingGoesOnRebuildingWhateverPeersSay() {
    Incarnation incarnation = starting(State.REBUILDING);
    incarnation.heardFrom("a", new PeerView(State.READY, List.of(ID)));
    assertEquals(State.REBUILDING, incarnation.state());
  }

  @Test
  public void answersWhoseNamesDoNotLineUpTellNothing() {
    Incarnation incarnation = starting(State.UNPROVEN);
    incarnation.pingAnswered("a", Map.of("x", List.of(99L), "y", List.of())); // two candidates for c's place
    incarnation.heardFrom("x", new PeerView(State.READY, List.of())); // not one of c's peers
    assertEquals(State.UNPROVEN, incarnation.state());
  }
}
