package io.quorumkv.membership;

import io.quorumkv.version.Version;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * This replica was told by a peer that another live process answers under its replica id
 * (docs/identity.md, rule 2). Until no peer has said so for {@link #QUIET_NANOS}, it refuses to
 * coordinate writes: two processes issuing versions under one id could put two values at one
 * version. Thread-safe.
 */
public final class IdentityAlarm {

  static final long QUIET_NANOS = 30_000_000_000L;

  private final LongSupplier nanoTime;
  private final long replicaId;
  private volatile long lastReportNanos;
  private volatile boolean reported;

  public IdentityAlarm(long replicaId, LongSupplier nanoTime) {
    this.replicaId = replicaId;
    this.nanoTime = nanoTime;
  }

  public IdentityAlarm(long replicaId) {
    this(replicaId, System::nanoTime);
  }

  /** A peer said another process answers under this replica's id. */
  public void duplicateReported() {
    lastReportNanos = nanoTime.getAsLong();
    reported = true;
  }

  /** Why writes are refused now, or empty. */
  public Optional<String> reason() {
    if (!reported || nanoTime.getAsLong() - lastReportNanos > QUIET_NANOS) {
      return Optional.empty();
    }
    return Optional.of("another live process answers under this replica's id " + Version.hex(replicaId)
        + " (a cloned data directory?): this replica coordinates no write until only one does");
  }
}
