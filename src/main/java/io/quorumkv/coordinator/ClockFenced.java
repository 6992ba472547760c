package io.quorumkv.coordinator;

/**
 * This replica's clock is off from most of its peers' (docs/clock-discipline.md, rule 3): the
 * request was not started, so a write was not applied.
 */
public record ClockFenced(String reason) implements WriteCoordinator.Result, ReadCoordinator.Result {}
