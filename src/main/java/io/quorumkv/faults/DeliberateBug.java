package io.quorumkv.faults;

import java.util.EnumSet;
import io.quorumkv.labels.Labels;
import java.util.Set;

/**
 * TEST ONLY. Correctness rules that can be switched off one at a time
 * ({@code quorumkv.test.deliberate-bugs}, env {@code DELIBERATE_BUGS}), to prove that the
 * deterministic simulation and the torture run notice when each of them is missing
 * (docs/testing.md). A replica with
 * any of them logs a warning at startup; never set one on a cluster that holds real data.
 */
public enum DeliberateBug {
  /** Reads reply with the newest of R answers without writing it back to W replicas first. */
  NO_READ_WRITE_BACK,
  /** Writes skip the version query: one round, the version stamped by the local clock alone. */
  ONE_ROUND_WRITES,
  /**
   * Applies are made durable only once a second, but reads and version queries see them at
   * once (Applies are still acknowledged only when durable): a crash loses values already read.
   */
  UNSYNCED_READS,
  /** Tombstones are purged once the grace has passed, settled by every replica or not. */
  TIMER_PURGE,
  /**
   * Conditional writes without consensus: a quorum read, the compare, then a plain apply (the
   * issue's first design that looks right and is not: two of them expecting one version both win).
   */
  COMPARE_WITHOUT_CONSENSUS;

  /** {@code no-read-write-back} and so on: how settings and {@code DELIBERATE_BUGS} name it. */
  public String label() {
    return Labels.of(this);
  }

  /** Parses a comma-separated list of labels; blank means none. */
  public static Set<DeliberateBug> parseList(String list) {
    Set<DeliberateBug> bugs = EnumSet.noneOf(DeliberateBug.class);
    for (String item : list.split(",")) {
      if (!item.isBlank()) {
        bugs.add(Labels.parseOrThrow(DeliberateBug.class, item, "a deliberate bug"));
      }
    }
    return bugs;
  }
}
