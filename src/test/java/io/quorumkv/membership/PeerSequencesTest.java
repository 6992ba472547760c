package io.quorumkv.membership;

import static org.junit.Assert.assertEquals;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.Test;

/**
 * Goal: a replica's later process is told what its earlier, stopped processes reported of their
 * storage sequence — never its own process's numbers, nor a sibling's still running alongside —
 * and this survives a save and is bounded.
 */
public class PeerSequencesTest {

  private final AtomicLong wall = new AtomicLong(1_000_000L);
  private final PeerSequences sequences = new PeerSequences(new byte[0], wall::get);

  private long reportedAfterASecond(long id, long nonce, long sequence) {
    wall.addAndGet(1_000L);
    return sequences.reported(id, nonce, sequence);
  }

  @Test
  public void answersWhatAnEarlierStoppedProcessReportedNeverTheCallersOwn() {
    assertEquals(0L, reportedAfterASecond(7L, 1L, 100L));
    assertEquals("its own numbers do not count", 0L, reportedAfterASecond(7L, 1L, 150L));
    wall.addAndGet(10_000L); // process 1 stops; process 2 starts later
    assertEquals(150L, reportedAfterASecond(7L, 2L, 120L)); // below 150: a restore
    assertEquals(150L, reportedAfterASecond(7L, 2L, 200L));
    assertEquals(0L, reportedAfterASecond(8L, 1L, 5L));
  }

  @Test
  public void aSiblingStillRunningAlongsideIsNoEarlierProcess() {
    reportedAfterASecond(7L, 1L, 100L);
    assertEquals("process 1 still calls", 0L, reportedAfterASecond(7L, 2L, 50L));
    reportedAfterASecond(7L, 1L, 110L);
    assertEquals(0L, reportedAfterASecond(7L, 2L, 50L));
  }

  @Test
  public void survivesASaveAndIsBounded() {
    for (long nonce = 0; nonce < PeerSequences.NONCES_MAX + 3; nonce++) {
      wall.addAndGet(10_000L);
      sequences.reported(7L, nonce, 10L + nonce);
    }
    AtomicReference<byte[]> saved = new AtomicReference<>();
    sequences.saveIfChanged(saved::set);
    assertEquals("the oldest processes are forgotten", PeerSequences.NONCES_MAX * 40, saved.get().length);
    PeerSequences reloaded = new PeerSequences(saved.get(), wall::get);
    wall.addAndGet(10_000L);
    assertEquals(10L + PeerSequences.NONCES_MAX + 2, reloaded.reported(7L, 99L, 0L));
  }
}
