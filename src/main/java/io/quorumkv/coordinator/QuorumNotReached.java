package io.quorumkv.coordinator;

/**
 * A request's quorum was not reached by its deadline, or so many replicas failed that it
 * could not be. {@code answered} counts the replicas that answered usefully in {@code phase}.
 */
public record QuorumNotReached(Phase phase, int answered, int required, int replicas)
    implements WriteResult, ReadResult, ListResult {}
