package io.quorumkv.store;

import static org.junit.Assert.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.Test;

/**
 * Goal: the incarnation rule. A replica on a new data directory counts only once a peer vouches
 * for it (a new cluster) or, if a peer ever saw another id in its place (a replacement), once
 * it has pulled everything from every peer; every change is persisted, so a restart never skips
 * a rebuild. This replica is "c"; its peers are "a" and "b", and they name it "c" too.
 */
public class IncarnationTest {

  private static final long ID = 42L;
  private final List<Incarnation.State> persisted = new ArrayList<>();

  private Incarnation starting(Incarnation.State state) {
    return new Incarnation(ID, state, List.of("a", "b"), persisted::add);
  }

  @Test
  public void restartOnOwnProvenDataIsReadyAtOnce() {
    assertEquals(Incarnation.State.READY, starting(Incarnation.State.READY).state());
  }

  @Test
  public void singleReplicaIsReadyAtOnce() {
    assertEquals(Incarnation.State.READY,
        new Incarnation(ID, Incarnation.State.UNPROVEN, List.of(), persisted::add).state());
  }

  @Test
  public void freshReplicaWaitsUntilAPeerVouches() {
    Incarnation incarnation = starting(Incarnation.State.UNPROVEN);
    assertEquals(Incarnation.State.UNPROVEN, incarnation.state());
    incarnation.heardFrom("a", Map.of("b", List.of(7L), "c", List.of())); // a never reached c's place
    assertEquals(Incarnation.State.READY, incarnation.state());
    assertEquals(List.of(Incarnation.State.READY), persisted);
    incarnation.heardFrom("b", Map.of("a", List.of(7L), "c", List.of(ID)));
    assertEquals(List.of(Incarnation.State.READY), persisted);
  }

  @Test
  public void peerThatSawOnlyThisVeryIdVouches() {
    Incarnation incarnation = starting(Incarnation.State.UNPROVEN);
    incarnation.heardFrom("b", Map.of("a", List.of(7L), "c", List.of(ID)));
    assertEquals(Incarnation.State.READY, incarnation.state());
  }

  @Test
  public void peerThatSawAnotherIdBeforeThisOneMeansReplacementEvenIfItAlsoSawThisOne() {
    Incarnation incarnation = starting(Incarnation.State.UNPROVEN);
    incarnation.heardFrom("b", Map.of("a", List.of(7L), "c", List.of(99L, ID)));
    assertEquals(Incarnation.State.REBUILDING, incarnation.state());
    assertEquals(List.of(Incarnation.State.REBUILDING), persisted);
  }

  @Test
  public void replacementRebuildsFromEveryPeerBeforeItCounts() {
    Incarnation incarnation = starting(Incarnation.State.UNPROVEN);
    incarnation.heardFrom("a", Map.of("b", List.of(7L), "c", List.of(99L))); // a knew someone else there
    assertEquals(Incarnation.State.REBUILDING, incarnation.state());
    incarnation.heardFrom("b", Map.of("a", List.of(7L), "c", List.of())); // b cannot vouch it away
    assertEquals(Incarnation.State.REBUILDING, incarnation.state());
    incarnation.pulledEverythingFrom("a");
    assertEquals(Incarnation.State.REBUILDING, incarnation.state());
    incarnation.pulledEverythingFrom("b");
    assertEquals(Incarnation.State.READY, incarnation.state());
    assertEquals(List.of(Incarnation.State.REBUILDING, Incarnation.State.READY), persisted);
  }

  @Test
  public void restartWhileRebuildingGoesOnRebuildingWhateverPeersSay() {
    Incarnation incarnation = starting(Incarnation.State.REBUILDING);
    incarnation.heardFrom("a", Map.of("b", List.of(7L), "c", List.of(ID))); // a now knows the new id only
    assertEquals(Incarnation.State.REBUILDING, incarnation.state());
  }

  @Test
  public void answersWhoseNamesDoNotLineUpTellNothing() {
    Incarnation incarnation = starting(Incarnation.State.UNPROVEN);
    incarnation.heardFrom("a", Map.of("x", List.of(), "y", List.of())); // two candidates for c's place
    assertEquals(Incarnation.State.UNPROVEN, incarnation.state());
  }
}
