package io.quorumkv.coordinator;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Whether a conditional write tries the fast round first (docs/conditional-writes.md, revision 8).
 * The fast round needs every replica to take it: with a replica down (by the pings), one that
 * answered a fast accept unavailable or too late a moment ago (not ready while it rebuilds, a
 * full disk, a slow disk), or on a key whose fast round was refused a moment ago (contention, a
 * stale version, a proposal left behind), it would only add a round trip before the classic
 * round, so it is skipped. Pure: its owner, the {@link Coordinators} actor, asks it and tells it
 * of refusals; times are from a monotonic clock.
 */
public final class FastRoundGate {

  /**
   * How long a fast accept waits for every replica (and a read for the last replica to confirm a
   * fast proposal) when rounds ask every replica at once and no hedge delay is configured.
   */
  public static final Duration WAIT_WITHOUT_HEDGE = Duration.ofMillis(50);

  /** How long a key whose fast round was refused, or every key after a replica missed one, goes classic. */
  static final Duration REFUSED_FOR = Duration.ofSeconds(1);
  /** Keys remembered at most; beyond, the oldest refusal is forgotten (its key tries fast again). */
  static final int KEYS_MAX = 10_000;

  private final Duration wait;
  private final Predicate<String> reachable;
  private final Map<String, Long> refusedAt = new LinkedHashMap<>();
  private final Map<String, Long> unavailableAt = new java.util.HashMap<>();

  /**
   * @param wait how long a fast accept waits for every replica before the classic round; zero:
   *     no fast round at all
   * @param reachable whether the pings find a peer up now
   */
  public FastRoundGate(Duration wait, Predicate<String> reachable) {
    this.wait = wait;
    this.reachable = reachable;
  }

  /** The fast wait for a conditional write of {@code key} to all {@code peers}, or null: classic only. */
  public Duration fastWait(String key, Iterable<String> peers, long nowMillis) {
    if (wait.isZero()) {
      return null;
    }
    Long refused = refusedAt.get(key);
    if (refused != null) {
      if (nowMillis - refused < REFUSED_FOR.toMillis()) {
        return null;
      }
      refusedAt.remove(key);
    }
    for (String peer : peers) {
      if (!reachable.test(peer)) {
        return null;
      }
    }
    for (long at : unavailableAt.values()) {
      if (nowMillis - at < REFUSED_FOR.toMillis()) {
        return null;
      }
    }
    return wait;
  }

  /** {@code replica} (this one included) answered a fast accept unavailable, or not in time. */
  public void unavailable(String replica, long nowMillis) {
    unavailableAt.put(replica, nowMillis); // one entry per replica: bounded by N
  }

  public void refused(String key, long nowMillis) {
    refusedAt.remove(key); // re-inserted last: the map is in order of refusal
    refusedAt.put(key, nowMillis);
    if (refusedAt.size() > KEYS_MAX) {
      refusedAt.remove(refusedAt.keySet().iterator().next());
    }
  }
}
