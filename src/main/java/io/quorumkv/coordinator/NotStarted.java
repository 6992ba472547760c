package io.quorumkv.coordinator;

/**
 * The request was not started, so a write was not applied: this replica's clock is fenced
 * ({@code phase} "clock", docs/clock-discipline.md), or, for a write, another live process
 * answers under its replica id ({@code phase} "identity", docs/identity.md).
 */
public record NotStarted(String reason, String phase) implements WriteResult, ReadResult, ListResult {

  public static final String CLOCK = "clock";
  public static final String IDENTITY = "identity";
  public static final String STORAGE = "storage";
}
