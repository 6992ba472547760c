package io.quorumkv.http;

import akka.http.javadsl.model.StatusCodes;
import io.quorumkv.version.HybridLogicalClock;
import java.util.Optional;

/**
 * Rule 1 of the clock discipline for calls from outside (docs/clock-discipline.md): a call whose
 * sender clock or record version lies further ahead of this replica's wall clock than
 * {@code max-clock-offset} is refused with a 400 and changes nothing; otherwise its readings are
 * observed. Shared by the HTTP endpoints and the replication stream.
 */
final class ClockCheck {

  private ClockCheck() {}

  /**
   * @param from the sender's address; with {@code senderReplicaId}, only for the log line (both
   *     are the sender's say-so)
   * @return the refusal, or empty when every reading was admitted (and observed)
   */
  static Optional<InternalEndpoint.Refused> refusal(
      HybridLogicalClock clock, String from, String what, long senderReplicaId, long... readings) {
    if (clock.admit(HybridLogicalClock.INBOUND,
        () -> what + " from " + from + ", sender replica id " + String.format("%016x", senderReplicaId), readings)) {
      return Optional.empty();
    }
    long aheadMillis = Long.MIN_VALUE;
    for (long reading : readings) {
      aheadMillis = Math.max(aheadMillis, reading < 0 ? Long.MAX_VALUE : clock.aheadOfWallMillis(reading));
    }
    return Optional.of(new InternalEndpoint.Refused(StatusCodes.BAD_REQUEST.intValue(),
        "clock reading ahead of this replica's clock by " + aheadMillis + " ms, beyond max-clock-offset ("
            + clock.maxOffsetMillis() + " ms)", "aheadMillis", aheadMillis, "maxClockOffsetMillis",
        clock.maxOffsetMillis()));
  }
}
