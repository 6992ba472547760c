package io.quorumkv.store;

import java.util.Objects;
import java.util.Optional;

/** A key and its record as a scan found it: no record when the stored one is undecodable. */
public record ScannedRecord(String key, Optional<Record> record) {
  public ScannedRecord {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(record, "record");
  }
}
