package io.quorumkv.replication;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import io.quorumkv.store.BucketHashes;
import io.quorumkv.store.Record;
import io.quorumkv.store.ReplicaProtocol.Entries;
import io.quorumkv.store.ReplicaProtocol.Entry;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.version.Version;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.Test;

/** The pure rules of anti-entropy ({@link AntiEntropyPlan}) and tombstone settlement ({@link TombstoneSettlement}). */
public class ReplicationRulesTest {

  private static final Stamp STAMP = new Stamp(1L, 1L);

  private static Entry value(String key, long hlc) {
    return new Entry(key, new Version(hlc, 9L), 42L);
  }

  private static Entry tombstone(String key, long hlc) {
    return new Entry(key, new Version(hlc, 9L), Record.TOMBSTONE_DIGEST);
  }

  private static Entries entries(boolean truncated, Entry... entries) {
    return new Entries(STAMP, List.of(entries), truncated);
  }

  @Test
  public void theNewerSideGivesItsRecordAndUnlistedKeysArePushed() {
    Entries ours = entries(false, value("a", 5), value("b", 9), value("d", 3), value("e", 4));
    Entries theirs = entries(false, value("a", 7), value("b", 2), tombstone("c", 6), value("e", 4));
    AntiEntropyPlan.Moves plan = AntiEntropyPlan.moves(ours, theirs, false);
    assertEquals(List.of(
        new AntiEntropyPlan.Move("a", true, Optional.empty()),
        new AntiEntropyPlan.Move("b", false, Optional.empty()),
        new AntiEntropyPlan.Move("c", true, Optional.of(Record.tombstone(new Version(6, 9L)))),
        new AntiEntropyPlan.Move("d", false, Optional.empty())), plan.moves());
    assertTrue(!plan.incomplete());
  }

  @Test
  public void aTruncatedListPushesNothingItDidNotListAndACatchingUpReplicaOnlyPulls() {
    Entries ours = entries(false, value("a", 5), value("z", 1));
    AntiEntropyPlan.Moves cut = AntiEntropyPlan.moves(ours, entries(true, value("a", 3)), false);
    assertEquals(List.of(new AntiEntropyPlan.Move("a", false, Optional.empty())), cut.moves());
    assertTrue(cut.incomplete());
    AntiEntropyPlan.Moves pulling = AntiEntropyPlan.moves(ours, entries(false, value("a", 3), value("b", 2)), true);
    assertEquals(List.of(new AntiEntropyPlan.Move("b", true, Optional.empty())), pulling.moves());
  }

  @Test
  public void aRoundListsAtMostItsShareOfTheDifferingBuckets() {
    long[] ours = new long[2 * BucketHashes.BUCKETS];
    long[] theirs = new long[2 * BucketHashes.BUCKETS];
    for (int bucket : new int[] {1, 3, 4, 6}) {
      theirs[2 * bucket + bucket % 2] = bucket + 100; // either half of a bucket makes it differ
    }
    AntiEntropyPlan.Buckets all = AntiEntropyPlan.buckets(ours, theirs, 10, new Random(1));
    assertEquals(4, all.differing());
    assertEquals(List.of(1, 3, 4, 6), all.chosen().stream().sorted().toList());
    AntiEntropyPlan.Buckets some = AntiEntropyPlan.buckets(ours, theirs, 2, new Random(1));
    assertEquals(2, some.chosen().size());
    assertTrue(some.incomplete() && List.of(1, 3, 4, 6).containsAll(some.chosen()));
    assertTrue(AntiEntropyPlan.buckets(ours, ours, 2, new Random(1)).chosen().isEmpty());
  }

  @Test
  public void aTombstoneSettlesOnlyWhenEveryReplicaHoldsIt() {
    TombstoneSettlement all = new TombstoneSettlement(tombstone("k", 5), 3);
    assertEquals(TombstoneSettlement.Decision.WAITING, all.answered(true));
    assertEquals(TombstoneSettlement.Decision.WAITING, all.answered(true));
    assertEquals(TombstoneSettlement.Decision.SETTLE, all.answered(true));
    assertThrows(IllegalStateException.class, () -> all.answered(true));
    TombstoneSettlement one = new TombstoneSettlement(tombstone("k", 5), 3);
    one.answered(true);
    one.answered(false); // says no, or its answer failed
    assertEquals(TombstoneSettlement.Decision.KEEP, one.answered(true));
  }
}
