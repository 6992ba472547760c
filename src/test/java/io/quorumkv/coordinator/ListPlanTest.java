package io.quorumkv.coordinator;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.quorumkv.store.Record;
import io.quorumkv.store.ReplicaProtocol.Page;
import io.quorumkv.store.ReplicaProtocol.PageEntry;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.store.Value;
import io.quorumkv.version.Version;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.Test;

/**
 * Goal: a listing takes a key as the pages show it only when W replicas hold exactly its newest
 * record and none holds a proposal or an unreadable record; every other key is read. It never
 * drops a key of the range it covers: a bound ends the range before the first key it cannot
 * take, and {@code next} is always the first key not answered for (docs/listing-watch-ttl.md).
 */
public class ListPlanTest {

  private static final Stamp STAMP = new Stamp(7L, 1L);

  private static PageEntry entry(String key, long hlc, String value) {
    Record record = new Record(new Version(hlc, 2L), Value.ofUtf8(value));
    return new PageEntry(key, record.version(), record.digest(), false, false, Optional.of(Value.ofUtf8(value)));
  }

  private static PageEntry tombstone(String key, long hlc) {
    return new PageEntry(key, new Version(hlc, 2L), Record.TOMBSTONE_DIGEST, false, false, Optional.empty());
  }

  private static PageEntry withoutValue(PageEntry entry) {
    return new PageEntry(entry.key(), entry.version(), entry.digest(), entry.proposal(), entry.unknown(),
        Optional.empty(), entry.ttlMillis(), entry.promised());
  }

  private static Map<String, Page> pages(List<PageEntry> local, Optional<String> localEnd, List<PageEntry> peer,
      Optional<String> peerEnd) {
    Map<String, Page> pages = new LinkedHashMap<>();
    pages.put("a", new Page(STAMP, local, localEnd));
    pages.put("b", new Page(STAMP, peer.stream().map(ListPlanTest::withoutValue).toList(), peerEnd));
    return pages;
  }

  private static List<String> slots(ListPlan.Merged merged) {
    return merged.slots().stream()
        .map(slot -> (slot instanceof ListPlan.NeedsRead ? "read " : "") + slot.key()).toList();
  }

  @Test
  public void agreedKeysAreTakenDisagreeingOnesReadAndAgreedTombstonesLeftOut() {
    List<PageEntry> local = List.of(entry("k1", 10, "one"), entry("k2", 10, "old"), tombstone("k3", 12),
        entry("k4", 13, "only-here"));
    List<PageEntry> peer = List.of(entry("k1", 10, "one"), entry("k2", 11, "new"), tombstone("k3", 12));

    ListPlan.Merged merged = ListPlan.merge(pages(local, Optional.empty(), peer, Optional.empty()), "a", 2, 10,
        false, 0L);

    assertEquals(List.of("k1", "read k2", "read k4"), slots(merged));
    assertEquals(Optional.empty(), merged.next());
  }

  /**
   * An agreed value with a TTL is taken while it lives; once expired by the coordinator's clock it
   * is left out, unless a page reports a promise above it (a conditional write on it may be in
   * flight): then it is read on its own, which settles first.
   */
  @Test
  public void anExpiredValueIsLeftOutOrUnderAPromiseReadAndALiveOneTakenWithItsTtl() {
    long hlc = io.quorumkv.version.HybridLogicalClock.fromMillis(1_000_000L);
    Record record = new Record(new Version(hlc, 2L), Value.ofUtf8("lease"), 5_000L);
    PageEntry expiring = new PageEntry("k1", record.version(), record.digest(), false, false,
        Optional.of(Value.ofUtf8("lease")), 5_000L, false);
    PageEntry promised = new PageEntry("k1", record.version(), record.digest(), false, false,
        Optional.of(Value.ofUtf8("lease")), 5_000L, true);
    Map<String, Page> pages = pages(List.of(expiring), Optional.empty(), List.of(expiring), Optional.empty());

    ListPlan.Merged living = ListPlan.merge(pages, "a", 2, 10, false, 1_004_999L);
    assertEquals(List.of("k1"), slots(living));
    assertEquals(5_000L, ((ListPlan.Agreed) living.slots().get(0)).ttlMillis());
    assertEquals(List.of(), slots(ListPlan.merge(pages, "a", 2, 10, false, 1_005_000L)));
    assertEquals(List.of("read k1"), slots(ListPlan.merge(
        pages(List.of(expiring), Optional.empty(), List.of(promised), Optional.empty()), "a", 2, 10, false, 1_005_000L)));
  }

  @Test
  public void aProposalOrAnUnreadableRecordOnOneReplicaMakesTheKeyRead() {
    PageEntry proposal = new PageEntry("k1", Version.ZERO, Record.TOMBSTONE_DIGEST, true, false, Optional.empty());
    PageEntry unknown = new PageEntry("k2", Version.ZERO, Record.TOMBSTONE_DIGEST, false, true, Optional.empty());
    List<PageEntry> local = List.of(proposal, entry("k2", 10, "v"), entry("k3", 10, "v"));
    List<PageEntry> peer = List.of(unknown, entry("k3", 10, "v"));

    ListPlan.Merged merged = ListPlan.merge(pages(local, Optional.empty(), peer, Optional.empty()), "a", 2, 10,
        false, 0L);

    assertEquals(List.of("read k1", "read k2", "k3"), slots(merged));
  }

  @Test
  public void theRangeEndsAtTheSmallestEndOfAPageThatStoppedEarly() {
    List<PageEntry> local = List.of(entry("k1", 10, "v"), entry("k2", 10, "v"));
    List<PageEntry> peer = List.of(entry("k1", 10, "v"), entry("k2", 10, "v"), entry("k3", 10, "v"));

    ListPlan.Merged merged = ListPlan.merge(pages(local, Optional.of("k2"), peer, Optional.empty()), "a", 2, 10,
        false, 0L);

    assertEquals(List.of("k1", "k2"), slots(merged)); // k3 lies beyond what the local page covered
    assertEquals(Optional.of("k2\0"), merged.next());
  }

  @Test
  public void theLimitAndTheReadBudgetEndTheRangeBeforeTheFirstKeyTheyCannotTake() {
    List<PageEntry> local = new ArrayList<>();
    List<PageEntry> peer = new ArrayList<>();
    for (int i = 0; i < ListPlan.READS_PER_PAGE + 5; i++) {
      String key = String.format("k%04d", i);
      local.add(entry(key, 10, "old"));
      peer.add(entry(key, 11, "new")); // every key disagrees: every key needs a read
    }

    ListPlan.Merged budget = ListPlan.merge(pages(local, Optional.empty(), peer, Optional.empty()), "a", 2, 1000,
        false, 0L);
    ListPlan.Merged limited = ListPlan.merge(pages(local, Optional.empty(), peer, Optional.empty()), "a", 2, 3,
        false, 0L);

    assertEquals(ListPlan.READS_PER_PAGE, budget.slots().size());
    assertEquals(Optional.of(String.format("k%04d", ListPlan.READS_PER_PAGE)), budget.next());
    assertEquals(3, limited.slots().size());
    assertEquals(Optional.of("k0003"), limited.next());
  }

  @Test
  public void withValuesAnAgreedKeyIsReadUnlessTheLocalPageCarriesItsValue() {
    List<PageEntry> local = List.of(entry("k1", 10, "v"), withoutValue(entry("k2", 10, "v")));
    List<PageEntry> peer = List.of(entry("k1", 10, "v"), entry("k2", 10, "v"));

    ListPlan.Merged merged = ListPlan.merge(pages(local, Optional.empty(), peer, Optional.empty()), "a", 2, 10,
        true, 0L);

    assertEquals(List.of("k1", "read k2"), slots(merged));
    assertEquals("v", new String(((ListPlan.Agreed) merged.slots().get(0)).value().orElseThrow().bytes()));
  }

  @Test
  public void assemblyLeavesOutKeysFoundAbsentAndEndsBeforeAFailedRead() {
    ListPlan.Merged merged = new ListPlan.Merged(List.of(
        new ListPlan.Agreed("k1", new Version(10, 2L), Optional.empty()),
        new ListPlan.NeedsRead("k2"), new ListPlan.NeedsRead("k3"), new ListPlan.NeedsRead("k4")),
        Optional.empty());
    Record found = new Record(new Version(12, 2L), Value.ofUtf8("three"));
    Map<String, ReadResult> reads = Map.of("k2", new ReadResult.NotFound("k2"), "k3",
        new ReadResult.Found("k3", found), "k4", new QuorumNotReached(Phase.READ, 1, 2, 3));

    ListResult.Listed page = ListPlan.assemble(merged, reads, false, 1 << 20, "").orElseThrow();

    assertEquals(List.of("k1", "k3"), page.items().stream().map(ListPlan.Item::key).toList());
    assertEquals(new Version(12, 2L), page.items().get(1).version());
    assertEquals(Optional.of("k4"), page.next());
  }

  @Test
  public void aFailedReadOfTheFirstKeyIsNoProgressAtTheStartAndValuesAreCutByBytes() {
    ListPlan.Merged failedFirst = new ListPlan.Merged(List.of(new ListPlan.NeedsRead("k1")), Optional.empty());
    assertTrue(ListPlan.assemble(failedFirst, Map.of(), false, 1 << 20, "k1").isEmpty());
    ListResult.Listed upTo = ListPlan.assemble(failedFirst, Map.of(), false, 1 << 20, "k0").orElseThrow();
    assertEquals(List.of(), upTo.items());
    assertEquals(Optional.of("k1"), upTo.next()); // past the start: an empty page still moves on

    ListPlan.Merged big = new ListPlan.Merged(List.of(
        new ListPlan.Agreed("k1", new Version(10, 2L), Optional.of(Value.wrap(new byte[600]))),
        new ListPlan.Agreed("k2", new Version(10, 2L), Optional.of(Value.wrap(new byte[600])))), Optional.empty());
    ListResult.Listed page = ListPlan.assemble(big, Map.of(), true, 1000, "").orElseThrow();
    assertEquals(List.of("k1"), page.items().stream().map(ListPlan.Item::key).toList());
    assertEquals(Optional.of("k2"), page.next());
  }
}
