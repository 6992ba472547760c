package io.quorumkv.coordinator;

import io.quorumkv.store.ListPages;
import io.quorumkv.store.Record;
import io.quorumkv.store.ReplicaProtocol.Page;
import io.quorumkv.store.ReplicaProtocol.PageEntry;
import io.quorumkv.store.Value;
import io.quorumkv.version.Version;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A listing's page as pure code (docs/listing-watch-ttl.md, "Listing"): {@link #merge} turns the
 * R replicas' pages into the covered range's keys, each agreed (W replicas hold exactly its
 * newest record, no proposal, nothing unknown) or needing a quorum read of its own; the
 * {@link ListCoordinator} runs those reads; {@link #assemble} builds the client's page.
 */
public final class ListPlan {

  /** Keys of one page that may need a quorum read each. */
  public static final int READS_PER_PAGE = 100;
  /**
   * As {@link #READS_PER_PAGE} when the values are asked for: each read holds its value (up to
   * {@code value-bytes-max}) until the page is assembled, so a page's reads hold at most this
   * many values.
   */
  public static final int READS_PER_PAGE_WITH_VALUES = 16;

  private ListPlan() {}

  /** A key of the covered range, in order. */
  public sealed interface Slot {
    String key();
  }

  /**
   * W replicas hold exactly this record, a value with {@code ttlMillis} (0: none) not expired by the
   * coordinator's clock; {@code value} when the local replica's page carried it.
   */
  public record Agreed(String key, Version version, Optional<Value> value, long ttlMillis) implements Slot {
    public Agreed(String key, Version version, Optional<Value> value) {
      this(key, version, value, 0L);
    }
  }

  /** The key needs a quorum read: the replicas disagree, one holds a proposal or an unreadable record. */
  public record NeedsRead(String key) implements Slot {}

  /**
   * The merged pages: the slots of the covered range (agreed tombstones and expired values left out), and where the
   * next page starts (empty: the prefix ends within the range).
   */
  public record Merged(List<Slot> slots, Optional<String> next) {}

  /**
   * @param pages the first R answers, by replica
   * @param local the local replica's name (its page carries the values, when asked for)
   * @param holdersRequired W
   * @param limit the most keys the client asked for
   * @param values whether the client asked for values (an agreed key whose value the local page
   *     lacks then needs a read)
   * @param clockMillis the coordinator's clock, which judges whether an agreed value's TTL has
   *     passed (as a read of the key does)
   */
  public static Merged merge(Map<String, Page> pages, String local, int holdersRequired, int limit,
      boolean values, long clockMillis) {
    Optional<String> end = pages.values().stream().map(Page::end).flatMap(Optional::stream)
        .min(ListPages::compare);
    Map<String, Map<String, PageEntry>> byKey = new TreeMap<>(ListPages::compare);
    pages.forEach((replica, page) -> {
      for (PageEntry entry : page.entries()) {
        if (end.isEmpty() || ListPages.compare(entry.key(), end.get()) <= 0) {
          byKey.computeIfAbsent(entry.key(), key -> new TreeMap<>()).put(replica, entry);
        }
      }
    });
    List<Slot> slots = new ArrayList<>();
    int reads = 0;
    int readsMax = values ? READS_PER_PAGE_WITH_VALUES : READS_PER_PAGE;
    for (Map.Entry<String, Map<String, PageEntry>> key : byKey.entrySet()) {
      if (slots.size() == limit
          || reads == readsMax && needsRead(key.getValue(), holdersRequired, local, values, clockMillis)) {
        return new Merged(slots, Optional.of(key.getKey())); // the range ends before this key
      }
      Map<String, PageEntry> held = key.getValue();
      if (needsRead(held, holdersRequired, local, values, clockMillis)) {
        slots.add(new NeedsRead(key.getKey()));
        reads++;
        continue;
      }
      PageEntry newest = newest(held);
      if (newest.holdsNoValue() || expired(newest, clockMillis)) {
        continue; // a tombstone held by W, or an expired value no promise stands above: absent
      }
      Optional<Value> value = Optional.ofNullable(held.get(local)).filter(entry -> same(entry, newest))
          .flatMap(PageEntry::value);
      slots.add(new Agreed(key.getKey(), newest.version(), value, newest.ttlMillis()));
    }
    return new Merged(slots, end.map(last -> last + "\0")); // the successor of the last key covered
  }

  /**
   * Whether a key needs a read of its own: a proposal or an unreadable record somewhere, fewer
   * than W exact holders of its newest record, its value missing from the local page, or an
   * expired value beside a promise above it (a conditional write on it may be in flight; its read
   * settles first: docs/listing-watch-ttl.md, "Conditions on an expiring value", revision 8).
   */
  private static boolean needsRead(Map<String, PageEntry> held, int holdersRequired, String local, boolean values,
      long clockMillis) {
    if (held.values().stream().anyMatch(entry -> entry.proposal() || entry.unknown())) {
      return true;
    }
    PageEntry newest = newest(held);
    if (expired(newest, clockMillis) && held.values().stream().anyMatch(PageEntry::promised)) {
      return true; // a conditional write on it may be in flight: its read settles first
    }
    // A page that does not list the key holds nothing: never an exact holder of a listed record.
    long exact = held.values().stream().filter(entry -> same(entry, newest)).count();
    if (exact < holdersRequired) {
      return true;
    }
    return values && !newest.holdsNoValue()
        && (held.get(local) == null || !same(held.get(local), newest) || held.get(local).value().isEmpty());
  }

  /** The newest entry; of two at one version, the higher digest (as reads pick). */
  private static PageEntry newest(Map<String, PageEntry> held) {
    return held.values().stream()
        .max(Comparator.comparing(PageEntry::version).thenComparingLong(PageEntry::digest))
        .orElseThrow();
  }

  private static boolean expired(PageEntry entry, long clockMillis) {
    return entry.ttlMillis() != 0
        && clockMillis >= io.quorumkv.version.HybridLogicalClock.millisOf(entry.version().hlc()) + entry.ttlMillis();
  }

  private static boolean same(PageEntry a, PageEntry b) {
    return a.version().equals(b.version()) && a.digest() == b.digest();
  }

  /** One item of the client's page; {@code ttlMillis} the TTL of its record (0: none). */
  public record Item(String key, Version version, Optional<Value> value, long ttlMillis) {}

  /**
   * The client's page: the slots in order, each agreed one as it is and each read one as its read
   * found it (absent ones left out), cut before the first key whose read failed, and when the
   * values reach {@code valueBytesMax} (the first item always fits). When the first slot's read
   * failed: an empty page whose next starts at that slot's key if it lies past {@code start}
   * (progress), else empty (none: the listing fails as that read did).
   */
  public static Optional<ListResult.Listed> assemble(Merged merged, Map<String, ReadResult> reads, boolean values,
      long valueBytesMax, String start) {
    List<Item> items = new ArrayList<>();
    long valueBytes = 0;
    for (int i = 0; i < merged.slots().size(); i++) {
      Slot slot = merged.slots().get(i);
      Item item;
      if (slot instanceof Agreed agreed) {
        item = new Item(agreed.key(), agreed.version(), values ? agreed.value() : Optional.empty(), agreed.ttlMillis());
      } else {
        ReadResult read = reads.get(slot.key());
        if (read instanceof ReadResult.NotFound) {
          continue;
        }
        if (!(read instanceof ReadResult.Found found)) {
          // No answer for this key: the page ends before it, unless that would not move on from start.
          return items.isEmpty() && ListPages.compare(slot.key(), start) <= 0 ? Optional.empty()
              : Optional.of(new ListResult.Listed(items, Optional.of(slot.key())));
        }
        Record record = found.record();
        item = new Item(slot.key(), record.version(), values ? Optional.of(record.value()) : Optional.empty(),
            record.ttlMillis());
      }
      long size = item.value().map(Value::length).orElse(0);
      if (!items.isEmpty() && valueBytes + size > valueBytesMax) {
        return Optional.of(new ListResult.Listed(items, Optional.of(item.key())));
      }
      items.add(item);
      valueBytes += size;
    }
    return Optional.of(new ListResult.Listed(items, merged.next()));
  }
}
