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

  /** Deliver {@link RoundEvent.BackoffPassed} after {@code delay}. */
  record StartBackoffTimer<R>(Duration delay) implements RoundEffect<R> {}

  /**
   * A sub-round's effects as its parent's: replies become {@code reply}'s effects (none when it
   * maps to empty), everything else passes through.
   */
  static <A, B> List<RoundEffect<B>> map(List<RoundEffect<A>> effects, java.util.function.Function<A, List<RoundEffect<B>>> reply) {
    List<RoundEffect<B>> mapped = new java.util.ArrayList<>(effects.size());
    for (RoundEffect<A> effect : effects) {
      if (effect instanceof Send<A> send) {
        mapped.add(new Send<>(send.replica(), send.request(), send.round()));
      } else if (effect instanceof Reply<A> replied) {
        mapped.addAll(reply.apply(replied.result()));
      } else if (effect instanceof Unacknowledged<A> missed) {
        mapped.add(new Unacknowledged<>(missed.key(), missed.replicas()));
      } else if (effect instanceof StartHedgeTimer<A> hedge) {
        mapped.add(new StartHedgeTimer<>(hedge.delay()));
      } else if (effect instanceof StartBackoffTimer<A> backoff) {
        mapped.add(new StartBackoffTimer<>(backoff.delay()));
      }
    }
    return mapped;
  }
}
