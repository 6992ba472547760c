package io.quorumkv.version;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.Test;

/** Goal: the clock never goes backwards, carries instead of wrapping, and moves past what it hears. */
public class HybridLogicalClockTest {

  private final AtomicLong wallMillis = new AtomicLong(1_000L);
  private final HybridLogicalClock clock = new HybridLogicalClock(wallMillis::get, 0L);

  @Test
  public void ticksFollowTheWallClockWithAnEmptyCounter() {
    assertEquals(HybridLogicalClock.fromMillis(1_000L), clock.tick());
    wallMillis.set(2_000L);
    assertEquals(HybridLogicalClock.fromMillis(2_000L), clock.tick());
  }

  @Test
  public void ticksAreMonotonicWhenTheWallClockStandsStillOrGoesBack() {
    long previous = clock.tick();
    for (int i = 0; i < 1_000; i++) {
      if (i == 500) {
        wallMillis.set(10L); // the wall clock jumps back
      }
      long next = clock.tick();
      assertTrue(next > previous);
      previous = next;
    }
  }

  @Test
  public void tickPastTheCounterLimitCarriesIntoTheMilliseconds() {
    clock.observe(HybridLogicalClock.fromMillis(1_000L) + HybridLogicalClock.COUNTER_MAX);
    long carried = clock.tick();
    assertEquals(1_001L, HybridLogicalClock.millisOf(carried));
    assertEquals(0L, carried & HybridLogicalClock.COUNTER_MAX);
  }

  @Test
  public void observeMovesThePastReceivedReadings() {
    long received = HybridLogicalClock.fromMillis(9_999_000L) + 17;
    clock.observe(received);
    assertTrue(clock.tick() > received);
    assertTrue(clock.peek() > received);
    clock.observe(5L); // an older reading changes nothing
    assertTrue(clock.tick() > received);
  }

  @Test
  public void peekIssuesNothing() {
    long first = clock.peek();
    assertEquals(first, clock.peek());
    assertTrue(clock.tick() >= first);
  }

  @Test
  public void negativeReadingsAndExhaustionAreProgrammerErrors() {
    assertThrows(IllegalArgumentException.class, () -> clock.observe(-1L));
    clock.observe(Long.MAX_VALUE);
    assertThrows(IllegalStateException.class, clock::tick);
  }

  @Test
  public void durableClockRecordsAMarkBeforeReachingItAndRestartsAboveIt() {
    java.util.List<Long> marks = new java.util.ArrayList<>();
    HybridLogicalClock durable = HybridLogicalClock.durable(wallMillis::get, 0L, marks::add);
    long issued = durable.tick();
    assertEquals(1, marks.size());
    assertTrue("a mark lies above every issued reading", marks.get(0) > issued);
    for (int i = 0; i < 1_000; i++) {
      issued = durable.tick(); // within the same mark: no new persistence
    }
    assertEquals(1, marks.size());

    // "Crash", then restart with the wall clock set back by an hour.
    wallMillis.addAndGet(-3_600_000L);
    HybridLogicalClock restarted = HybridLogicalClock.durable(wallMillis::get, marks.get(marks.size() - 1), marks::add);
    assertTrue(restarted.tick() > issued);
  }

  @Test
  public void observingPastTheMarkPersistsANewMarkFirst() {
    java.util.List<Long> marks = new java.util.ArrayList<>();
    HybridLogicalClock durable = HybridLogicalClock.durable(wallMillis::get, 0L, marks::add);
    long far = HybridLogicalClock.fromMillis(wallMillis.get() + 60_000L);
    durable.observe(far);
    assertTrue(marks.get(marks.size() - 1) > far);
  }
}
