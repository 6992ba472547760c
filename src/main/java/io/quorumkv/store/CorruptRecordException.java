package io.quorumkv.store;

/**
 * A stored record that cannot be decoded (bit rot, or a record an older release let in): never
 * served, neither as a value nor as absence. The key is quarantined: reads and version queries
 * of it answer unavailable, which keeps quorum intersection (an absence answer could let a
 * quorum miss the newest write), and the first valid record applied to it replaces it, which is
 * how anti-entropy and read repair heal it from the peers.
 */
public final class CorruptRecordException extends IllegalStateException {

  private final String key;

  CorruptRecordException(String key, String message) {
    super(message);
    this.key = key;
  }

  public String key() {
    return key;
  }
}
