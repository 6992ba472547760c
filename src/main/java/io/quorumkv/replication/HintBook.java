package io.quorumkv.replication;

import io.quorumkv.store.Hint;
import io.quorumkv.store.ReplicaProtocol.Answer;
import io.quorumkv.store.ReplicaProtocol.Applied;
import io.quorumkv.store.Storage;
import io.quorumkv.store.StorageFullException;
import io.quorumkv.version.Version;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The hints one replica keeps, as pure code (docs/design.md, "Convergence"): one durable hint per
 * (peer, key), bounded per peer in count and bytes, refreshed by a newer write of the key, expired
 * after {@code expiry}, and forgotten only once the peer holds the replayed record or a newer one
 * (and not if a newer write refreshed the hint meanwhile). {@link HintedHandoff} drives it with
 * its timers and messages; the deterministic simulation drives it directly.
 */
public final class HintBook {

  /** Bounds per peer, and when a hint expires. */
  public record Bounds(Duration expiry, int countMaxPerTarget, long bytesMaxPerTarget) {}

  private final Storage storage;
  private final Map<String, HintStatus> statuses;
  private final Bounds bounds;
  private final LongSupplier nowMillis;
  /** Per peer, the keys it has a stored hint for and the hint's time (bounded by countMaxPerTarget). */
  private final Map<String, Map<String, Long>> hinted = new HashMap<>();

  /**
   * Counts the hints that survived the last run; those for a peer no longer configured are
   * deleted (on a full disk: again at the next start).
   *
   * @param statuses each peer's counters, by peer name: the peers hints may be kept for
   */
  public HintBook(Storage storage, Map<String, HintStatus> statuses, Bounds bounds, LongSupplier nowMillis) {
    this.storage = storage;
    this.statuses = Map.copyOf(statuses);
    this.bounds = bounds;
    this.nowMillis = nowMillis;
    statuses.keySet().forEach(peer -> hinted.put(peer, new HashMap<>()));
    for (Hint hint : storage.allHints()) {
      HintStatus status = statuses.get(hint.target());
      if (status == null) {
        deleteIfRoom(hint);
      } else {
        hinted.get(hint.target()).put(hint.key(), hint.createdMillis());
        status.stored(bytesOf(hint.key()), false);
      }
    }
  }

  /** The write of {@code key} was not acknowledged by {@code targets}: keep (or refresh) a hint for each. */
  public void record(String key, List<String> targets) {
    long bytes = bytesOf(key);
    for (String target : targets) {
      HintStatus status = statuses.get(target);
      if (status == null) {
        continue; // not a peer (this replica itself, say)
      }
      boolean known = hinted.get(target).containsKey(key);
      if (!known && (status.pending() >= bounds.countMaxPerTarget()
          || status.pendingBytes() + bytes > bounds.bytesMaxPerTarget())) {
        status.dropped();
        continue;
      }
      // A refreshed hint gets a later time than the one it replaces, so a replay of the old one
      // (see forget) can tell them apart.
      Long previous = hinted.get(target).get(key);
      long now = previous == null ? nowMillis.getAsLong() : Math.max(nowMillis.getAsLong(), previous + 1);
      try {
        storage.putHint(new Hint(target, key, now));
      } catch (StorageFullException e) {
        status.dropped(); // the disk is full: anti-entropy brings the peer this write instead
        continue;
      }
      status.stored(bytes, hinted.get(target).put(key, now) != null);
    }
  }

  public boolean hasHints(String target) {
    return !hinted.get(target).isEmpty();
  }

  /** Up to {@code limit} of {@code target}'s stored hints, in key order. */
  public List<Hint> stored(String target, int limit) {
    return storage.hints(target, limit);
  }

  /** Forgets {@code hint} and counts it expired if it is older than the expiry; says whether it was. */
  public boolean expireIfDue(Hint hint) {
    if (nowMillis.getAsLong() - hint.createdMillis() <= bounds.expiry().toMillis()) {
      return false;
    }
    forget(hint);
    statuses.get(hint.target()).expired();
    return true;
  }

  /**
   * Whether the peer's answer to the replayed Apply of {@code sent} lets the hint go: only a peer
   * that now holds that record or a newer one; one that refused it (as too old, say) keeps it.
   */
  public static boolean holds(Answer answer, Version sent) {
    return answer instanceof Applied applied && applied.version().compareTo(sent) >= 0;
  }

  /** The peer holds the replayed record: the hint goes (unless refreshed meanwhile); counted replayed. */
  public void delivered(Hint hint) {
    forget(hint);
    statuses.get(hint.target()).replayed();
  }

  /** This replica holds nothing for the key any more: nothing to hand off. */
  public void nothingToHandOff(Hint hint) {
    forget(hint);
  }

  /**
   * Deletes the hint, unless a newer write refreshed it meanwhile: then the peer may still miss
   * that write, and the refreshed hint stays for the next replay.
   */
  private void forget(Hint hint) {
    Long created = hinted.get(hint.target()).get(hint.key());
    if (created == null || created != hint.createdMillis()) {
      return; // refreshed (or gone) meanwhile
    }
    try {
      storage.deleteHint(hint.target(), hint.key());
    } catch (StorageFullException e) {
      return; // the disk is full: the hint stays, stored and pending, and is replayed again later
    }
    hinted.get(hint.target()).remove(hint.key(), hint.createdMillis());
    statuses.get(hint.target()).removed(bytesOf(hint.key()));
  }

  private void deleteIfRoom(Hint hint) {
    try {
      storage.deleteHint(hint.target(), hint.key());
    } catch (StorageFullException e) {
      // Left for later, see above.
    }
  }

  private static long bytesOf(String key) {
    return key.getBytes(StandardCharsets.UTF_8).length;
  }
}
