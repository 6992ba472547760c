package io.quorumkv.coordinator;

import io.quorumkv.labels.Labels;
import java.util.Optional;

/**
 * How many replicas a request waits for (docs/design.md, "Request flow"). {@code QUORUM} is the default
 * and the only level, with {@code ALL}, under which reads and writes of a key are linearizable.
 */
public enum Consistency {
  /** W = R = 1: the local replica only; replication continues in the background. */
  ONE,
  /** W = R = a majority of the N replicas (2 of 3). */
  QUORUM,
  /** W = R = N: more copies before answering, not a stronger order than QUORUM. */
  ALL;

  /** Parses {@code one|quorum|all} in any case; empty for anything else. */
  public static Optional<Consistency> parse(String text) {
    return Labels.parse(Consistency.class, text);
  }

  /** Answers required out of {@code replicas}. */
  public int required(int replicas) {
    return switch (this) {
      case ONE -> 1;
      case QUORUM -> replicas / 2 + 1;
      case ALL -> replicas;
    };
  }

  public String label() {
    return Labels.of(this);
  }
}
