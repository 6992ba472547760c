package io.quorumkv.replication;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Anti-entropy progress with one peer, for {@code GET /cluster}: when a round last completed,
 * what it found, and the totals of records pulled and pushed. Written by the AntiEntropy actor,
 * read by the routes: one immutable snapshot swapped atomically.
 */
public final class AntiEntropyStatus {

  /**
   * One round's result. {@code complete}: the round compared every differing bucket and
   * copied every newer record of the peer (nothing was cut by a limit or failed).
   */
  public record Round(Instant completed, int differingBuckets, int pulled, int pushed, boolean complete, String error) {}

  private record State(Round last, Instant lastConverged, long pulledTotal, long pushedTotal, long rounds) {}

  private final AtomicReference<State> state = new AtomicReference<>(new State(null, null, 0, 0, 0));

  public void completed(Round round) {
    state.updateAndGet(previous -> new State(
        round,
        round.error() == null && round.differingBuckets() == 0 ? round.completed() : previous.lastConverged(),
        previous.pulledTotal() + round.pulled(),
        previous.pushedTotal() + round.pushed(),
        previous.rounds() + 1));
  }

  public Map<String, Object> render() {
    State current = state.get();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("rounds", current.rounds());
    body.put("lastRound", current.last() == null ? null : current.last().completed().toString());
    body.put("lastDifferingBuckets", current.last() == null ? null : current.last().differingBuckets());
    body.put("lastError", current.last() == null ? null : current.last().error());
    body.put("lastConverged", current.lastConverged() == null ? null : current.lastConverged().toString());
    body.put("pulled", current.pulledTotal());
    body.put("pushed", current.pushedTotal());
    return body;
  }
}
