package io.quorumkv.store;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.quorumkv.config.FsyncMode;
import io.quorumkv.store.ReplicaProtocol.ListPage;
import io.quorumkv.store.ReplicaProtocol.Page;
import io.quorumkv.store.ReplicaProtocol.PageEntry;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.version.Version;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * Goal: a replica's list page (docs/listing-watch-ttl.md, "Listing") lists, in UTF-8 byte order
 * within the prefix, every key with a record (tombstones as they are) or an accepted proposal,
 * and an unreadable record as unknown; it says where it stopped when a bound cut it.
 */
public class ListPagesTest {

  @Rule
  public final TemporaryFolder folder = new TemporaryFolder();

  private static final Stamp STAMP = new Stamp(7L, 1L);

  private static Record value(long hlc, String text) {
    return new Record(new Version(hlc, 2L), Value.ofUtf8(text));
  }

  private static List<String> keys(Page page) {
    return page.entries().stream().map(PageEntry::key).toList();
  }

  private static Page page(Storage storage, String prefix, String start, int limit, boolean values) {
    try (Storage.Snapshot snapshot = storage.snapshot()) {
      return ListPages.page(snapshot, new ListPage(prefix, start, limit, values, STAMP), STAMP);
    }
  }

  @Test
  public void listsThePrefixInByteOrderWithTombstonesAndEndsAtItsEnd() {
    MemoryStorage storage = new MemoryStorage();
    storage.applyIfNewer(List.of(
        new KeyedRecord("app/b", value(10, "b")),
        new KeyedRecord("app/a", value(11, "a")),
        new KeyedRecord("app/\uFFFF", value(12, "bmp")),
        new KeyedRecord("app/\uD83D\uDE00", value(13, "emoji")), // after U+FFFF in UTF-8, before in UTF-16
        new KeyedRecord("app/gone", Record.tombstone(new Version(14, 2L))),
        new KeyedRecord("apple", value(15, "outside")),
        new KeyedRecord("ap", value(16, "before"))));

    Page page = page(storage, "app/", "", 10, false);

    assertEquals(List.of("app/a", "app/b", "app/gone", "app/\uFFFF", "app/\uD83D\uDE00"), keys(page));
    assertEquals(Optional.empty(), page.end());
    PageEntry gone = page.entries().get(2);
    assertTrue(gone.holdsNoValue());
    assertEquals(new Version(14, 2L), gone.version());
    assertTrue(page.entries().stream().allMatch(entry -> entry.value().isEmpty()));
  }

  @Test
  public void aLimitEndsThePageAtTheLastKeyListedAndStartResumesInclusively() {
    MemoryStorage storage = new MemoryStorage();
    for (int i = 0; i < 5; i++) {
      storage.applyIfNewer(List.of(new KeyedRecord("k" + i, value(10 + i, "v" + i))));
    }

    Page first = page(storage, "k", "", 2, false);
    Page second = page(storage, "k", "k2", 2, false);
    Page last = page(storage, "k", "k4", 2, false);

    assertEquals(List.of("k0", "k1"), keys(first));
    assertEquals(Optional.of("k1"), first.end());
    assertEquals(List.of("k2", "k3"), keys(second));
    assertEquals(Optional.of("k3"), second.end());
    assertEquals(List.of("k4"), keys(last));
    assertEquals(Optional.empty(), last.end());
  }

  @Test
  public void anAcceptedProposalWithNoRecordIsListedAndPaxosStateWithoutOneIsNot() {
    MemoryStorage storage = new MemoryStorage();
    Version ballot = new Version(20, 3L);
    Proposal proposal = new Proposal(ballot, Optional.of(new Record(ballot, Value.ofUtf8("cas"))), false);
    storage.applyIfNewer(List.of(new KeyedRecord("k2", value(10, "plain"))), Map.of(
        "k1", new PaxosState(ballot, Optional.of(proposal), Version.ZERO),
        "k3", new PaxosState(ballot, Optional.empty(), ballot)));

    Page page = page(storage, "", "", 10, false);

    assertEquals(List.of("k1", "k2"), keys(page));
    PageEntry accepted = page.entries().get(0);
    assertTrue(accepted.proposal());
    assertEquals(Version.ZERO, accepted.version());
    assertFalse(page.entries().get(1).proposal());
  }

  @Test
  public void valuesComeOnlyWhenAskedAndNeverForTombstones() {
    MemoryStorage storage = new MemoryStorage();
    storage.applyIfNewer(List.of(new KeyedRecord("a", value(10, "alpha")),
        new KeyedRecord("b", Record.tombstone(new Version(11, 2L)))));

    Page page = page(storage, "", "", 10, true);

    assertEquals("alpha", new String(page.entries().get(0).value().orElseThrow().bytes()));
    assertEquals(Optional.empty(), page.entries().get(1).value());
  }

  @Test
  public void anUnreadableRecordIsListedAsUnknownNeverLeftOut() throws Exception {
    try (RocksDbStorage storage = RocksDbStorage.open(folder.newFolder("data").toPath(), FsyncMode.ALWAYS)) {
      storage.applyIfNewer(List.of(new KeyedRecord("a", value(10, "alpha"))));
      storage.putUncheckedForTests("b", new byte[] {1, 0, 0});

      Page page = page(storage, "", "", 10, false);

      assertEquals(List.of("a", "b"), keys(page));
      assertFalse(page.entries().get(0).unknown());
      assertTrue(page.entries().get(1).unknown());
    }
  }

  @Test
  public void aPageStopsAfterReadingSixteenMebibytesOfValuesAndAfterItsEntryBytes() {
    MemoryStorage storage = new MemoryStorage();
    for (int i = 0; i < 20; i++) {
      storage.applyIfNewer(List.of(new KeyedRecord(String.format("big%02d", i),
          new Record(new Version(10 + i, 2L), Value.wrap(new byte[1 << 20])))));
    }
    String longKey = "x".repeat(1000);
    for (int i = 0; i < 100; i++) {
      storage.applyIfNewer(List.of(new KeyedRecord(String.format("%s%03d", longKey, i), value(10, "v"))));
    }

    Page big = page(storage, "big", "", 100, false);
    Page longKeys = page(storage, "x", "", 100, false);

    assertEquals(17, big.entries().size()); // 16 MiB read, then one more before the check
    assertEquals(Optional.of("big16"), big.end());
    assertTrue(longKeys.entries().size() < 100);
    assertEquals(Optional.of(longKeys.entries().get(longKeys.entries().size() - 1).key()), longKeys.end());
  }

  @Test
  public void aPageOfPaxosStatesWithoutProposalsStopsAfterItsVisitsAndSaysWhere() {
    MemoryStorage storage = new MemoryStorage();
    Version ballot = new Version(20, 3L);
    java.util.Map<String, PaxosState> states = new java.util.TreeMap<>();
    for (int i = 0; i < 40; i++) {
      states.put(String.format("k%02d", i), new PaxosState(ballot, Optional.empty(), ballot));
    }
    storage.applyIfNewer(List.of(), states);

    Page page = page(storage, "", "", 2, false); // 2 x 16 visits past the first key, no entry to list

    assertEquals(List.of(), keys(page));
    assertEquals(Optional.of("k32"), page.end());
  }
}
