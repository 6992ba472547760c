package io.quorumkv.coordinator;

import java.util.HashSet;
import java.util.Set;

/**
 * Counts the answers of one quorum round: each replica counts once (its first answer), and
 * the round is {@code REACHED} when {@code required} replicas succeeded, {@code FAILED} when
 * so many failed that the rest can no longer reach it. Pure, no Akka: table-tested in
 * {@code QuorumTrackerTest}.
 */
public final class QuorumTracker {

  public enum Outcome { PENDING, REACHED, FAILED }

  private final int replicas;
  private final int required;
  private final Set<String> succeeded = new HashSet<>();
  private final Set<String> failed = new HashSet<>();

  public QuorumTracker(int replicas, int required) {
    if (replicas < 1 || required < 1 || required > replicas) {
      throw new IllegalArgumentException(
          "a quorum needs 1 <= required <= replicas, got " + required + " of " + replicas);
    }
    this.replicas = replicas;
    this.required = required;
  }

  /** Records a success unless {@code replica} already answered; returns the outcome. */
  public Outcome succeeded(String replica) {
    if (!hasAnswered(replica)) {
      succeeded.add(replica);
    }
    return outcome();
  }

  /** Records a failure unless {@code replica} already answered; returns the outcome. */
  public Outcome failed(String replica) {
    if (!hasAnswered(replica)) {
      failed.add(replica);
    }
    return outcome();
  }

  public boolean hasSucceeded(String replica) {
    return succeeded.contains(replica);
  }

  public boolean hasAnswered(String replica) {
    return succeeded.contains(replica) || failed.contains(replica);
  }

  public Outcome outcome() {
    if (succeeded.size() >= required) {
      return Outcome.REACHED;
    }
    if (replicas - failed.size() < required) {
      return Outcome.FAILED;
    }
    return Outcome.PENDING;
  }

  public int successes() {
    return succeeded.size();
  }

  public int failures() {
    return failed.size();
  }

  public int answers() {
    return succeeded.size() + failed.size();
  }

  public int required() {
    return required;
  }

  public int replicas() {
    return replicas;
  }
}
