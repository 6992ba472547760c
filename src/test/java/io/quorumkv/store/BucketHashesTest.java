package io.quorumkv.store;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import io.quorumkv.version.Version;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.Test;

/**
 * Goal: the incremental bucket hashes always equal a full recomputation, and do not depend on
 * the order records arrived in. Method: random applies (values, tombstones, stale and repeated
 * records) against the memory engine. The seed is printed; {@code -Dquorumkv.test.seed=N} replays it.
 */
public class BucketHashesTest {

  @Test
  public void incrementalHashesEqualAFullRecomputationAfterRandomApplies() {
    long seed = Long.getLong("quorumkv.test.seed", System.nanoTime());
    System.out.println("BucketHashesTest seed " + seed + " (replay with -Dquorumkv.test.seed=" + seed + ")");
    Random random = new Random(seed);
    MemoryStorage storage = new MemoryStorage();
    BucketHashes incremental = new BucketHashes();
    for (int i = 0; i < 20_000; i++) {
      String key = "key-" + random.nextInt(2_000);
      Version version = new Version(1 + random.nextInt(10_000), random.nextInt(3));
      Record record = random.nextInt(5) == 0
          ? Record.tombstone(version)
          : Record.of(version, Value.ofUtf8("v" + random.nextInt(100)));
      ApplyOutcome outcome = storage.applyIfNewer(List.of(new KeyedRecord(key, record))).get(0);
      if (outcome.changed()) {
        incremental.replace(key, outcome.before(), outcome.held());
      }
    }
    assertArrayEquals("seed " + seed + " (replay with -Dquorumkv.test.seed=" + seed + ")", BucketHashes.rebuild(storage).snapshot(), incremental.snapshot());
  }

  @Test
  public void arrivalOrderDoesNotMatterAndDifferencesAreFound() {
    List<KeyedRecord> records = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      records.add(new KeyedRecord("k" + i, Record.of(new Version(10 + i, 1), Value.ofUtf8("v" + i))));
    }
    MemoryStorage inOrder = new MemoryStorage();
    inOrder.applyIfNewer(records);
    List<KeyedRecord> shuffled = new ArrayList<>(records);
    Collections.shuffle(shuffled, new Random(1));
    MemoryStorage outOfOrder = new MemoryStorage();
    outOfOrder.applyIfNewer(shuffled);
    long[] a = BucketHashes.rebuild(inOrder).snapshot();
    long[] b = BucketHashes.rebuild(outOfOrder).snapshot();
    assertArrayEquals(a, b);
    assertTrue(BucketHashes.differing(a, b).isEmpty());

    outOfOrder.applyIfNewer(List.of(new KeyedRecord("k7", Record.tombstone(new Version(999, 1)))));
    long[] c = BucketHashes.rebuild(outOfOrder).snapshot();
    assertEquals(List.of(BucketHashes.bucketOf("k7")), BucketHashes.differing(a, c));
  }

  @Test
  public void sameVersionWithAnotherValueHashesDifferently() {
    BucketHashes one = new BucketHashes();
    BucketHashes other = new BucketHashes();
    one.toggle("k", Record.of(new Version(5, 5), Value.ofUtf8("a")));
    other.toggle("k", Record.of(new Version(5, 5), Value.ofUtf8("b")));
    assertNotEquals(BucketHashes.differing(one.snapshot(), other.snapshot()), List.of());
  }

  @Test
  public void rebuildPagesThroughLargeStores() {
    MemoryStorage storage = new MemoryStorage();
    BucketHashes incremental = new BucketHashes();
    for (int i = 0; i < 5_000; i++) {
      Record record = Record.of(new Version(1 + i, 1), Value.ofUtf8("v"));
      storage.applyIfNewer(List.of(new KeyedRecord("key" + i, record)));
      incremental.toggle("key" + i, record);
    }
    assertArrayEquals(incremental.snapshot(), BucketHashes.rebuild(storage).snapshot());
  }
}
