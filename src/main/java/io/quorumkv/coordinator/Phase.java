package io.quorumkv.coordinator;

/** The round of a request that failed to reach its quorum; named in 503 bodies. */
public enum Phase {
  /** A write's first round. Nothing was applied anywhere: the write definitely did not happen. */
  VERSION_QUERY(false),
  /** A write's second round. Some replicas may hold the value: the outcome is indeterminate. */
  APPLY(true),
  /** A read's first round. */
  READ(false),
  /** A read's write-back of the newest record to W replicas. */
  WRITE_BACK(false),
  /**
   * A read that saw a newer record than the one it chose before replying, in each of its read
   * rounds: the key kept changing under it (docs/design.md, "When a newer record starts a read over").
   */
  CHANGING(false),
  /** A conditional write's prepare (or the settle before a 412): nothing of its own was sent, so it did not happen. */
  PREPARE(false),
  /** A conditional write's accept: some replicas may hold its proposal, which a later round may adopt. */
  ACCEPT(true);

  private final boolean indeterminate;

  Phase(boolean indeterminate) {
    this.indeterminate = indeterminate;
  }

  /** {@code version-query} and so on: as 503 bodies name it. */
  public String label() {
    return io.quorumkv.labels.Labels.of(this);
  }

  /** Whether a write that failed in this phase may still become visible later. */
  public boolean indeterminate() {
    return indeterminate;
  }
}
