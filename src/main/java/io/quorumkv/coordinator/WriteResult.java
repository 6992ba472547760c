package io.quorumkv.coordinator;

import io.quorumkv.version.Version;

/** How a write (PUT or DELETE) ended: the reply its coordinator gives the requester. */
public sealed interface WriteResult permits WriteResult.Written, QuorumNotReached, Overloaded, NotStarted {

  /** W replicas durably hold {@code version} (or newer) of the key. */
  record Written(String key, Version version) implements WriteResult {}
}
