package io.quorumkv.coordinator;

import io.quorumkv.store.Record;

/** How a read ended: the reply its coordinator gives the requester. */
public sealed interface ReadResult permits ReadResult.Found, ReadResult.NotFound, QuorumNotReached, Overloaded, NotStarted {

  /** The newest record of the key is a value. */
  record Found(String key, Record record) implements ReadResult {}

  /** The key was never written, or its newest record is a tombstone. */
  record NotFound(String key) implements ReadResult {}
}
