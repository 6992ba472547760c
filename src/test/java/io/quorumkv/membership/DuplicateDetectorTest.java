package io.quorumkv.membership;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.Test;

/**
 * Goal: two live processes with one replica id are told from a restart (docs/identity.md, rule
 * 2), and one forged call is not enough. Method: sightings on a manual clock, one a second.
 */
public class DuplicateDetectorTest {

  private static final long SECOND = 1_000_000_000L;
  private final AtomicLong nanos = new AtomicLong();
  private final DuplicateDetector detector = new DuplicateDetector(nanos::get);

  private boolean sightedAfterASecond(long id, long nonce) {
    nanos.addAndGet(SECOND);
    return detector.sighted(id, nonce);
  }

  @Test
  public void twoProcessesCallingInTurnAreDuplicates() {
    boolean duplicated = false;
    for (int i = 0; i < 4; i++) {
      duplicated = sightedAfterASecond(7L, 1L);
      duplicated |= sightedAfterASecond(7L, 2L);
    }
    assertTrue(duplicated);
    assertTrue(detector.isDuplicated(7L));
    assertEquals(List.of(7L), detector.duplicatedIds());
  }

  @Test
  public void aRestartHoweverFastIsNoDuplicate() {
    for (int i = 0; i < 5; i++) {
      assertFalse(sightedAfterASecond(7L, 1L));
    }
    for (int i = 0; i < 5; i++) {
      assertFalse("the old process no longer calls", sightedAfterASecond(7L, 2L));
    }
  }

  @Test
  public void oneForgedCallIsNoDuplicate() {
    for (int i = 0; i < 5; i++) {
      sightedAfterASecond(7L, 1L);
    }
    sightedAfterASecond(7L, 666L);
    for (int i = 0; i < 5; i++) {
      assertFalse(sightedAfterASecond(7L, 1L));
    }
  }

  @Test
  public void aDuplicateEndsOnceOneProcessStops() {
    for (int i = 0; i < 4; i++) {
      sightedAfterASecond(7L, 1L);
      sightedAfterASecond(7L, 2L);
    }
    assertTrue(detector.isDuplicated(7L));
    for (int i = 0; i < 40; i++) {
      sightedAfterASecond(7L, 1L);
    }
    assertFalse("30 s after the clone's last call", detector.isDuplicated(7L));
  }
}
