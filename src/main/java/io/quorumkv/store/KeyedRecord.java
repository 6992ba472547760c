package io.quorumkv.store;

/** A record together with its key, as it travels in batches and scans. */
public record KeyedRecord(String key, Record record) {

  public KeyedRecord {
    if (key == null || record == null) {
      throw new IllegalArgumentException("key and record are required");
    }
  }
}
