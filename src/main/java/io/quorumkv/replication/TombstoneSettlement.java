package io.quorumkv.replication;

import io.quorumkv.store.ReplicaProtocol.Entry;

/**
 * Whether one tombstone may be settled, as pure code (docs/design.md, "Convergence"): only when
 * every replica asked answers that it durably holds that very tombstone in its current
 * incarnation. A replica that says no, or whose answer failed, keeps it unsettled — never a
 * timer, never "holds nothing". {@link TombstoneSweeper} asks with messages; the deterministic
 * simulation asks on its event loop.
 */
public final class TombstoneSettlement {

  public enum Decision { WAITING, SETTLE, KEEP }

  private final Entry tombstone;
  private final int asked;
  private int answers;
  private boolean allHold = true;

  /** @param asked how many replicas are asked, this one included: each answers once */
  public TombstoneSettlement(Entry tombstone, int asked) {
    if (asked < 1) {
      throw new IllegalArgumentException("a tombstone is settled by asking at least this replica");
    }
    this.tombstone = tombstone;
    this.asked = asked;
  }

  public Entry tombstone() {
    return tombstone;
  }

  /** One replica's answer ({@code holds} false when it failed); the decision once all answered. */
  public Decision answered(boolean holds) {
    if (answers == asked) {
      throw new IllegalStateException("more answers than replicas asked about " + tombstone);
    }
    answers++;
    allHold &= holds;
    if (answers < asked) {
      return Decision.WAITING;
    }
    return allHold ? Decision.SETTLE : Decision.KEEP;
  }
}
