package io.quorumkv.version;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.Test;

/** Goal: the clock never goes backwards, carries instead of wrapping, and moves past what it hears. */
public class HybridLogicalClockTest {

  private final AtomicLong wallMillis = new AtomicLong(1_000L);
  private final HybridLogicalClock clock = new HybridLogicalClock(wallMillis::get, 0L);

  @Test
  public void aMarkThatCannotBeRecordedRefusesTheMessageAndTheClockStaysBelowItsLastMark() {
    java.util.concurrent.atomic.AtomicBoolean diskFull = new java.util.concurrent.atomic.AtomicBoolean();
    AtomicLong durable = new AtomicLong();
    HybridLogicalClock marked = HybridLogicalClock.durable(wallMillis::get, 0L, mark -> {
      if (diskFull.get()) {
        throw new IllegalStateException("no space left on device");
      }
      durable.set(mark);
    });
    long issued = marked.tick();
    diskFull.set(true);
    long farther = durable.get() + 1; // needs a new mark
    wallMillis.set(HybridLogicalClock.millisOf(farther) + 1);
    assertFalse(marked.admit("peer1", "ping", farther));
    assertEquals(1L, marked.markFailures());
    assertThrows(IllegalStateException.class, marked::tick); // the coordinator answers "not started"
    assertTrue(marked.peek() >= issued);
    diskFull.set(false);
    assertTrue(marked.admit("peer1", "ping", farther));
    assertTrue(marked.tick() > farther);
  }

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
    long received = HybridLogicalClock.fromMillis(1_000L + 4_999L) + 17; // within the 5 s offset
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
  public void negativeReadingsAreProgrammerErrorsAndExhaustionIsOutOfReach() {
    assertThrows(IllegalArgumentException.class, () -> clock.observe(-1L));
    // Finding: one read-version call with senderClock = 2^63-1 exhausted every replica's clock.
    assertFalse(clock.observe(Long.MAX_VALUE));
    assertTrue(clock.tick() < HybridLogicalClock.fromMillis(1_001L));
  }

  @Test
  public void readingsFurtherAheadThanTheOffsetAreRefusedCountedAndNeverObserved() {
    HybridLogicalClock bounded = new HybridLogicalClock(wallMillis::get, 0L, java.time.Duration.ofSeconds(5));
    long atTheBound = HybridLogicalClock.fromMillis(1_000L + 5_000L);
    long beyond = HybridLogicalClock.fromMillis(1_000L + 5_001L);
    assertFalse("one bad reading refuses the whole message", bounded.admit("peer1", "test", atTheBound, beyond));
    assertTrue("nothing of a refused message is observed", bounded.peek() < atTheBound);
    assertFalse(bounded.admit("peer1", "test", Long.MAX_VALUE));
    assertFalse(bounded.admit(HybridLogicalClock.INBOUND, "test", -1L));
    assertEquals(java.util.Map.of("inbound", 1L, "peer1", 2L), bounded.refusals());

    assertTrue(bounded.admit("peer1", "test", atTheBound));
    assertTrue(bounded.tick() > atTheBound);
    wallMillis.addAndGet(10_000L); // what was beyond is acceptable once real time caught up
    assertTrue(bounded.admit("peer1", "test", beyond));
  }

  @Test
  public void theDurableMarkStaysATenthOfTheOffsetAheadSoARestartIsNeverTooFarAhead() {
    java.time.Duration offset = java.time.Duration.ofSeconds(5);
    java.util.List<Long> marks = new java.util.ArrayList<>();
    HybridLogicalClock durable = HybridLogicalClock.durable(wallMillis::get, 0L, marks::add, offset);
    assertEquals(HybridLogicalClock.fromMillis(500L), durable.markStep());
    long issued = 0;
    for (int second = 0; second < 30; second++) {
      wallMillis.addAndGet(1_000L);
      issued = durable.tick();
    }
    long lastMark = marks.get(marks.size() - 1);
    assertTrue("one mark per step of advance, not per tick", marks.size() <= 61);
    assertTrue(lastMark > issued && lastMark - issued <= durable.markStep());
    // kill -9, restart at once or a year later: the mark is never beyond the offset.
    assertFalse(HybridLogicalClock.markIsTooFarAhead(lastMark, wallMillis.get(), offset));
    assertFalse(HybridLogicalClock.markIsTooFarAhead(lastMark, wallMillis.get() + 365L * 86_400_000L, offset));
    // A mark left by a clock that ran a year ahead is.
    assertTrue(HybridLogicalClock.markIsTooFarAhead(
        HybridLogicalClock.fromMillis(wallMillis.get() + 365L * 86_400_000L), wallMillis.get(), offset));
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
    long far = HybridLogicalClock.fromMillis(wallMillis.get() + 4_000L);
    assertTrue(durable.observe(far));
    assertTrue(marks.get(marks.size() - 1) > far);
  }
}
