package io.quorumkv.coordinator;

import io.quorumkv.version.Version;

/** How a write (PUT or DELETE) ended: the reply its coordinator gives the requester. */
public sealed interface WriteResult
    permits WriteResult.Written, WriteResult.PreconditionFailed, WriteResult.Contended, QuorumNotReached, Overloaded,
    NotStarted {

  /** W replicas durably hold {@code version} (or newer) of the key. */
  record Written(String key, Version version) implements WriteResult {}

  /**
   * A conditional write's condition was false on the key's committed state: nothing changed.
   * {@code current} is that state's version, empty when the key is absent or deleted.
   */
  record PreconditionFailed(String key, java.util.Optional<Version> current) implements WriteResult {}

  /**
   * A conditional write was preempted by other rounds on the key {@code attempts} times: it gave
   * up before any replica was asked to accept its record, so it did not happen.
   */
  record Contended(String key, int attempts) implements WriteResult {}
}
