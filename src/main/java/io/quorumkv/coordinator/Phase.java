package io.quorumkv.coordinator;

/** The round of a request that failed to reach its quorum; named in 503 bodies. */
public enum Phase {
  /** A write's first round. Nothing was applied anywhere: the write definitely did not happen. */
  VERSION_QUERY("version-query", false),
  /** A write's second round. Some replicas may hold the value: the outcome is indeterminate. */
  APPLY("apply", true),
  /** A read's first round. */
  READ("read", false),
  /** A read's write-back of the newest record to W replicas. */
  WRITE_BACK("write-back", false);

  private final String label;
  private final boolean indeterminate;

  Phase(String label, boolean indeterminate) {
    this.label = label;
    this.indeterminate = indeterminate;
  }

  public String label() {
    return label;
  }

  /** Whether a write that failed in this phase may still become visible later. */
  public boolean indeterminate() {
    return indeterminate;
  }
}
