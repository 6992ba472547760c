package io.quorumkv.coordinator;

import io.quorumkv.store.ReplicaProtocol.StoreRequest;
import java.time.Duration;
import java.util.List;

/**
 * What a quorum round asks its actor to do: its output. The actor sends, replies and schedules;
 * the round decides. {@code R} is the round's result type.
 */
public sealed interface RoundEffect<R> {

  /** Send {@code request} to {@code replica}, tagged with {@code round}: its answer comes back with that tag. */
  record Send<R>(String replica, StoreRequest request, long round) implements RoundEffect<R> {}

  /** Reply to the requester (exactly once per request). */
  record Reply<R>(R result) implements RoundEffect<R> {}

  /** {@code replicas} did not acknowledge the write of {@code key}: hand it to hinted handoff. */
  record Unacknowledged<R>(String key, List<String> replicas) implements RoundEffect<R> {}

  /** Deliver {@link RoundEvent.HedgeDelayPassed} after {@code delay}. */
  record StartHedgeTimer<R>(Duration delay) implements RoundEffect<R> {}
}
