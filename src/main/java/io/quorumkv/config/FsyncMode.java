package io.quorumkv.config;

import io.quorumkv.labels.Labels;
import java.util.Optional;

/**
 * When a replica's writes reach the disk (docs/design.md, "Storage"). The guarantees of the README
 * (linearizable, no acknowledged write lost while at most N - W replicas fail) assume
 * {@code ALWAYS}.
 */
public enum FsyncMode {
  /** No Apply is acknowledged before the write-ahead log is synced (group commit). */
  ALWAYS,
  /** Acknowledged once written to the OS; the log is synced every 100 ms. */
  PERIODIC,
  /** Acknowledged once written to the OS; synced only when the OS decides. */
  NEVER;

  /** Parses {@code always|periodic|never} in any case; empty for anything else. */
  public static Optional<FsyncMode> parse(String text) {
    return Labels.parse(FsyncMode.class, text);
  }
}
