package io.quorumkv.coordinator;

/** Too many requests are in flight on this replica; the request was not started. */
public record Overloaded(int inFlight, int inFlightMax)
    implements WriteResult, ReadResult, ListResult {}
