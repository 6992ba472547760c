package io.quorumkv.store;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.quorumkv.version.Version;
import java.util.List;
import java.util.Optional;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Goal: the {@link Storage} contract, run against every engine (one subclass per engine).
 * Method: apply batches and compare what the engine holds with what the contract says.
 */
public abstract class StorageContractTest {

  private static final Version V1 = new Version(100, 1);
  private static final Version V2 = new Version(200, 1);

  protected Storage storage;

  protected abstract Storage open();

  @Before
  public void openStorage() {
    storage = open();
  }

  @After
  public void closeStorage() {
    storage.close();
  }

  private Record apply(String key, Record record) {
    return storage.applyIfNewer(List.of(new KeyedRecord(key, record))).get(0).held();
  }

  @Test
  public void absentKeyHoldsNothing() {
    assertEquals(Optional.empty(), storage.get("missing"));
  }

  @Test
  public void higherVersionWinsInEitherOrder() {
    Record older = Record.of(V1, Value.ofUtf8("one"));
    Record newer = Record.of(V2, Value.ofUtf8("two"));
    assertEquals(older, apply("k", older));
    assertEquals(newer, apply("k", newer));
    assertEquals(newer, apply("k", older)); // an older record arriving late loses
    assertEquals(Optional.of(newer), storage.get("k"));
  }

  @Test
  public void reapplyingIsANoOp() {
    Record record = Record.of(V1, Value.ofUtf8("one"));
    apply("k", record);
    assertEquals(record, apply("k", record));
    assertEquals(Optional.of(record), storage.get("k"));
  }

  @Test
  public void tombstoneHidesTheValueItSupersedes() {
    apply("k", Record.of(V1, Value.ofUtf8("one")));
    Record tombstone = Record.tombstone(V2);
    assertEquals(tombstone, apply("k", tombstone));
    Record held = storage.get("k").orElseThrow();
    assertTrue(held.isTombstone());
    assertEquals(V2, held.version());
  }

  @Test
  public void batchAnswersEachEntryInOrder() {
    Record a = Record.of(V2, Value.ofUtf8("a"));
    apply("a", a);
    Record b1 = Record.of(V1, Value.ofUtf8("b"));
    Record b2 = Record.of(V2, Value.ofUtf8("b2"));
    List<ApplyOutcome> outcomes = storage.applyIfNewer(List.of(
        new KeyedRecord("a", Record.of(V1, Value.ofUtf8("stale"))),
        new KeyedRecord("b", b1),
        new KeyedRecord("b", b2)));
    assertEquals(new ApplyOutcome(Optional.of(a), a), outcomes.get(0));
    assertEquals(false, outcomes.get(0).changed());
    assertEquals(new ApplyOutcome(Optional.empty(), b1), outcomes.get(1));
    assertEquals(new ApplyOutcome(Optional.of(b1), b2), outcomes.get(2)); // sees the batch's own earlier entry
    assertEquals(true, outcomes.get(2).changed());
    assertEquals(Optional.of(b2), storage.get("b"));
  }

  @Test
  public void scanReturnsKeysInUtf8OrderFromTheStartKey() {
    for (String key : List.of("b", "a", "é", "c", "Z")) {
      apply(key, Record.of(V1, Value.ofUtf8(key)));
    }
    List<String> keys = storage.scan("a", 10).stream().map(KeyedRecord::key).toList();
    assertEquals(List.of("a", "b", "c", "é"), keys);
    assertEquals(List.of("Z", "a"), storage.scan("", 2).stream().map(KeyedRecord::key).toList());
  }

  @Test
  public void metadataRoundTrips() {
    assertEquals(Optional.empty(), storage.getMeta("replica-id"));
    storage.putMeta("replica-id", new byte[] {1, 2, 3});
    assertArrayEquals(new byte[] {1, 2, 3}, storage.getMeta("replica-id").orElseThrow());
  }

  @Test
  public void hintsAreKeptPerTargetRefreshedAndDeleted() {
    storage.putHint(new Hint("peer1", "b", 10));
    storage.putHint(new Hint("peer1", "a", 11));
    storage.putHint(new Hint("peer2", "a", 12));
    storage.putHint(new Hint("peer1", "b", 20)); // a later write refreshes the hint
    assertEquals(List.of(new Hint("peer1", "a", 11), new Hint("peer1", "b", 20)), storage.hints("peer1", 10));
    assertEquals(List.of(new Hint("peer1", "a", 11)), storage.hints("peer1", 1));
    assertEquals(3, storage.allHints().size());
    storage.deleteHint("peer1", "a");
    assertEquals(List.of(new Hint("peer1", "b", 20)), storage.hints("peer1", 10));
    assertEquals(List.of(new Hint("peer2", "a", 12)), storage.hints("peer2", 10));
    assertEquals(List.of(), storage.hints("peer3", 10));
  }
}
