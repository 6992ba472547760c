package io.quorumkv.config;

import java.time.Duration;

/**
 * Which replicas a quorum round asks, and when.
 *
 * <ul>
 *   <li>{@link #ALL}: every replica at once (N messages per round);
 *   <li>{@link #quorumFirst}: the local replica and just enough peers for the quorum (R or the
 *       version query's quorum); the remaining replicas only when an asked one fails, or when
 *       the round is still open after {@code hedgeDelay} (a slow or paused peer). In the common
 *       case a round then costs R-1 peer messages instead of N-1, and a quorum read or a version
 *       query is just as linearizable: the rule is on how many answers are used, not on how many
 *       were asked (docs/design.md, "Request flow"). Applies always go to all N, so every replica gets every
 *       write.
 * </ul>
 */
public record Fanout(boolean quorumFirst, Duration hedgeDelay) {

  public static final Fanout ALL = new Fanout(false, Duration.ZERO);

  public Fanout {
    if (quorumFirst && (hedgeDelay.isNegative() || hedgeDelay.isZero())) {
      throw new IllegalArgumentException("a quorum-first round needs a positive hedge delay");
    }
  }

  public static Fanout quorumFirst(Duration hedgeDelay) {
    return new Fanout(true, hedgeDelay);
  }

  /** How many of {@code targets} replicas to ask first, for a round that needs {@code required}. */
  public int firstAsked(int targets, int required) {
    return quorumFirst ? required : targets;
  }
}
