package io.quorumkv.coordinator;

import io.quorumkv.store.ReplicaProtocol.Answer;

/** What happens to a quorum round ({@link WriteRound}, {@link ReadRound}): its input. */
public sealed interface RoundEvent {

  /** The round begins: it sends its first requests. */
  record Started() implements RoundEvent {}

  /** {@code replica} answered a request that round {@code round} of the request sent. */
  record Answered(String replica, long round, Answer answer) implements RoundEvent {}

  /** The hedge delay passed (see {@link io.quorumkv.config.Fanout}). */
  record HedgeDelayPassed() implements RoundEvent {}

  /** The backoff a Paxos round asked for after it was preempted passed: it tries again. */
  record BackoffPassed() implements RoundEvent {}

  /** The request's deadline passed: the round replies now if it has not, and ends. */
  record DeadlinePassed() implements RoundEvent {}
}
