package io.quorumkv.store;

import static org.junit.Assert.assertEquals;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.Test;

/**
 * Goal: the incarnation rule. A replica on a new data directory counts only once a peer vouches
 * for it (a new cluster) or, if a peer knew another id in its place (a replacement), once it
 * has pulled everything from every peer. This replica is "c"; its peers are "a" and "b", and
 * they name it "c" too.
 */
public class IncarnationTest {

  private static final long ID = 42L;
  private final AtomicInteger readiness = new AtomicInteger();

  private Incarnation fresh() {
    return new Incarnation(ID, true, List.of("a", "b"), readiness::incrementAndGet);
  }

  @Test
  public void restartOnOwnDataIsReadyAtOnce() {
    assertEquals(Incarnation.State.READY, new Incarnation(ID, false, List.of("a", "b"), () -> { }).state());
  }

  @Test
  public void singleReplicaIsReadyAtOnce() {
    assertEquals(Incarnation.State.READY, new Incarnation(ID, true, List.of(), () -> { }).state());
  }

  @Test
  public void freshReplicaWaitsUntilAPeerVouches() {
    Incarnation incarnation = fresh();
    assertEquals(Incarnation.State.UNPROVEN, incarnation.state());
    incarnation.heardFrom("a", Map.of("b", 7L, "c", 0L)); // a never reached anyone in c's place
    assertEquals(Incarnation.State.READY, incarnation.state());
    assertEquals("readiness is persisted once", 1, readiness.get());
    incarnation.heardFrom("b", Map.of("a", 7L, "c", ID));
    assertEquals(1, readiness.get());
  }

  @Test
  public void peerThatSawThisVeryIdVouches() {
    Incarnation incarnation = fresh();
    incarnation.heardFrom("b", Map.of("a", 7L, "c", ID));
    assertEquals(Incarnation.State.READY, incarnation.state());
  }

  @Test
  public void replacementRebuildsFromEveryPeerBeforeItCounts() {
    Incarnation incarnation = fresh();
    incarnation.heardFrom("a", Map.of("b", 7L, "c", 99L)); // a knew someone else in c's place
    assertEquals(Incarnation.State.REBUILDING, incarnation.state());
    incarnation.heardFrom("b", Map.of("a", 7L, "c", 0L)); // b cannot vouch it away
    assertEquals(Incarnation.State.REBUILDING, incarnation.state());
    incarnation.pulledEverythingFrom("a");
    assertEquals(Incarnation.State.REBUILDING, incarnation.state());
    incarnation.pulledEverythingFrom("b");
    assertEquals(Incarnation.State.READY, incarnation.state());
    assertEquals(1, readiness.get());
  }

  @Test
  public void answersWhoseNamesDoNotLineUpTellNothing() {
    Incarnation incarnation = fresh();
    incarnation.heardFrom("a", Map.of("x", 0L, "y", 0L)); // two candidates for c's place
    assertEquals(Incarnation.State.UNPROVEN, incarnation.state());
  }
}
