package io.quorumkv.version;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.Test;

/**
 * Goal: a replica fences itself while a strict majority of its peers' wall clocks are off from
 * its own beyond 0.35 x max-clock-offset and the measurement's uncertainty, while no peer has
 * confirmed its clock, or while its hybrid clock runs far ahead of its wall clock; and only on
 * fresh measurements (docs/clock-discipline.md, rule 3).
 */
public class ClockFenceTest {

  private static final long WALL = 100_000L;

  private final AtomicLong nanos = new AtomicLong();
  private final HybridLogicalClock clock = new HybridLogicalClock(() -> WALL, 0L, Duration.ofSeconds(5));
  private final ClockFence fence = new ClockFence(2, clock, Duration.ofSeconds(10), nanos::get);

  @Test
  public void theFenceLiesAtThirtyFiveHundredthsOfTheOffset() {
    assertEquals(1_750L, fence.fenceMillis());
  }

  @Test
  public void aReplicaNoPeerHasConfirmedIsFenced() {
    assertTrue("at start, before any measurement", fence.reason().isPresent());
    assertTrue(fence.reason().get(), fence.reason().get().contains("no peer has confirmed"));
    fence.measured("b", WALL - 3_600_000L, WALL, 1_000L); // an hour apart: never a confirmation
    assertTrue(fence.reason().isPresent());
    fence.measured("b", WALL + 100L, WALL, 2L);
    assertFalse(fence.reason().isPresent());
  }

  @Test
  public void oneBadPeerFencesNobodyButBothBadPeersFenceThisReplica() {
    fence.measured("b", WALL + 10_000L, WALL, 2L); // b is 10 s ahead
    fence.measured("c", WALL, WALL, 2L);
    assertFalse("one of two peers is no majority, and c agrees", fence.reason().isPresent());
    assertTrue(fence.isOff("b"));
    assertFalse(fence.isOff("c"));
    fence.measured("c", WALL + 9_000L, WALL, 2L);
    assertTrue(fence.reason().isPresent());
    assertTrue(fence.reason().get(), fence.reason().get().contains("coordinates nothing"));
    assertEquals(Map.of("b", 9_999L, "c", 8_999L), fence.offsetsMillis());
  }

  @Test
  public void aClockBehindFencesLikeAClockAhead() {
    fence.measured("b", WALL - 4_000L, WALL, 0L);
    fence.measured("c", WALL - 4_000L, WALL, 0L);
    assertTrue(fence.reason().isPresent());
  }

  @Test
  public void anUncertainMeasurementConfirmsButNeverFences() {
    fence.measured("b", WALL + 3_500L, WALL, 3_000L); // 2 s +- 1.5 s: maybe within the fence
    fence.measured("c", WALL + 3_500L, WALL, 3_000L);
    assertFalse("a slow link to a correct peer must not fence", fence.reason().isPresent());
    assertFalse(fence.isOff("b"));
  }

  @Test
  public void staleOrMissingMeasurementsCountForNothing() {
    fence.measured("b", WALL + 10_000L, WALL, 0L);
    fence.measured("c", WALL + 10_000L, WALL, 0L);
    assertTrue(fence.reason().isPresent());
    fence.unmeasured("c");
    fence.measured("b", WALL, WALL, 0L);
    assertFalse(fence.reason().isPresent());
    nanos.addAndGet(Duration.ofSeconds(11).toNanos());
    assertFalse("a confirmation stays while the peers are out of reach", fence.reason().isPresent());
    assertEquals(Map.of(), fence.offsetsMillis());
    fence.measured("b", WALL + 10_000L, WALL, 0L);
    fence.measured("c", WALL + 10_000L, WALL, 0L);
    assertTrue("fresh measurements judge it again", fence.reason().isPresent());
  }

  @Test
  public void aHybridClockFarAheadOfItsWallClockFences() {
    // Only a wall clock set back gets here: the clock admits nothing beyond the offset.
    HybridLogicalClock ahead = new HybridLogicalClock(() -> WALL, HybridLogicalClock.fromMillis(WALL + 60_000L),
        Duration.ofSeconds(5));
    ClockFence alone = new ClockFence(0, ahead, Duration.ofSeconds(10), nanos::get);
    assertTrue(alone.reason().isPresent());
    assertTrue(alone.reason().get(), alone.reason().get().contains("set back"));
  }

  @Test
  public void aReplicaWithoutPeersIsNeverFencedByMeasurements() {
    ClockFence alone = new ClockFence(0, clock, Duration.ofSeconds(10), nanos::get);
    assertFalse(alone.reason().isPresent());
  }
}
