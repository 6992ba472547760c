package io.quorumkv.store;

import java.util.Objects;
import java.util.Optional;

/** A key and its Paxos state as a scan found it: no state when the stored one is unreadable. */
public record ScannedPaxos(String key, Optional<PaxosState> state) {
  public ScannedPaxos {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(state, "state");
  }
}
