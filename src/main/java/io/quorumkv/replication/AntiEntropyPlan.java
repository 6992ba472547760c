package io.quorumkv.replication;

import io.quorumkv.store.BucketHashes;
import io.quorumkv.store.Record;
import io.quorumkv.store.ReplicaProtocol.Entries;
import io.quorumkv.store.ReplicaProtocol.Entry;
import io.quorumkv.version.Version;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;

/**
 * What one anti-entropy round between this replica and a peer does, as pure code
 * (docs/design.md, "Convergence"): which buckets to list, and which records to move which way.
 * {@link AntiEntropySession} carries the plan out with messages; the deterministic simulation
 * carries it out on its event loop.
 */
public final class AntiEntropyPlan {

  private AntiEntropyPlan() {}

  /**
   * A record to copy: from the peer to here ({@code pull}) or from here to the peer.
   * {@code known}: the record itself when the entry already says all of it (a tombstone), so
   * it is applied without being read first.
   */
  public record Move(String key, boolean pull, Optional<Record> known) {}

  /** The buckets to list, of {@code differing} that differ; {@code incomplete} when some were left for later. */
  public record Buckets(List<Integer> chosen, int differing, boolean incomplete) {}

  /** The moves of a round; {@code incomplete} when a listing was cut short, so some keys were not compared. */
  public record Moves(List<Move> moves, boolean incomplete) {}

  /**
   * The buckets whose hashes differ; when more differ than a round may take, a random subset of
   * {@code bucketsPerRound} of them, so no bucket starves.
   */
  public static Buckets buckets(long[] ours, long[] theirs, int bucketsPerRound, Random random) {
    List<Integer> differing = BucketHashes.differing(ours, theirs);
    List<Integer> chosen = new ArrayList<>(differing);
    Collections.shuffle(chosen, random);
    boolean incomplete = chosen.size() > bucketsPerRound;
    if (incomplete) {
      chosen = chosen.subList(0, bucketsPerRound);
    }
    return new Buckets(List.copyOf(chosen), differing.size(), incomplete);
  }

  /**
   * Compares the two sides' entries of the same buckets: a key the peer holds newer (or this
   * replica lacks) is pulled; one this replica holds newer is pushed, and so is one the peer did
   * not list, unless its list was cut short. {@code pullOnly} (a replica catching up) pushes
   * nothing.
   */
  public static Moves moves(Entries ours, Entries theirs, boolean pullOnly) {
    Map<String, Entry> mine = new HashMap<>();
    for (Entry entry : ours.entries()) {
      mine.put(entry.key(), entry);
    }
    List<Move> moves = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (Entry entry : theirs.entries()) {
      seen.add(entry.key());
      Entry held = mine.get(entry.key());
      Version theirVersion = entry.version();
      if (held == null || theirVersion.isAfter(held.version())) {
        // A tombstone carries no value: it is applied from its entry (the peer's reads show a
        // settled one as absence).
        moves.add(new Move(entry.key(), true, entry.digest() == Record.TOMBSTONE_DIGEST
            ? Optional.of(Record.tombstone(theirVersion)) : Optional.empty()));
      } else if (held.version().isAfter(theirVersion) && !pullOnly) {
        moves.add(new Move(entry.key(), false, Optional.empty()));
      }
    }
    // Keys the peer did not list: push them, unless its list was cut short by the limit.
    if (!theirs.truncated() && !pullOnly) {
      for (Entry entry : ours.entries()) {
        if (!seen.contains(entry.key())) {
          moves.add(new Move(entry.key(), false, Optional.empty()));
        }
      }
    }
    return new Moves(moves, ours.truncated() || theirs.truncated());
  }
}
