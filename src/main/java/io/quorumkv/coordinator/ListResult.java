package io.quorumkv.coordinator;

import java.util.List;
import java.util.Optional;

/** How a listing ended: the reply its coordinator gives the requester. */
public sealed interface ListResult permits ListResult.Listed, QuorumNotReached, Overloaded, NotStarted {

  /**
   * A page: its items in key order, and the key the next page starts at (empty: none follows).
   * Each item is what a quorum read of its key returned, or could have, during the listing.
   */
  record Listed(List<ListPlan.Item> items, Optional<String> next) implements ListResult {
    public Listed {
      items = List.copyOf(items);
    }
  }
}
