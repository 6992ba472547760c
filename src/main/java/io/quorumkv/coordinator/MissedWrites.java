package io.quorumkv.coordinator;

import java.util.List;

/**
 * Told of the replicas that did not acknowledge a write, once its apply round is over: hinted
 * handoff implements it (the coordinators know nothing of how hints are kept).
 */
@FunctionalInterface
public interface MissedWrites {

  /** Hinted handoff is off: nothing is kept. */
  MissedWrites NONE = (key, replicas) -> {};

  void missed(String key, List<String> replicas);
}
