package io.quorumkv.store;

import io.quorumkv.config.FsyncMode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Declares a new cluster from snapshots of the old one when every replica is lost
 * (docs/operating.md, "Disaster recovery"): the offline {@code recover} command of the replica
 * jar. Each output data directory gets, for every key, the newest record (value or tombstone)
 * across all the snapshots, and a new replica id of its own; the replicas started on them form a
 * brand-new cluster, which becomes ready once all of them have heard from each other.
 *
 * <p>Known limits, which the operator accepts by running it: writes after the snapshots are lost;
 * a delete whose tombstone one replica had already purged before its snapshot can come back from
 * another replica's older snapshot that still held the value; hints and settled-tombstone
 * bookkeeping are not carried over (every output holds every record, so nothing is owed to
 * anyone, and the tombstones settle again).
 */
public final class DisasterRecovery {

  /** Records are merged this many at a time, so memory does not grow with the data. */
  private static final int PAGE = 1_000;

  private DisasterRecovery() {}

  /**
   * @param keys keys in the merged store, tombstones included
   * @param recordsRead records read from each snapshot, in order
   * @param replicaIds the new replica id of each output, in order
   */
  public record Summary(long keys, long tombstones, List<Long> recordsRead, List<Long> replicaIds) {}

  /**
   * @throws IllegalArgumentException when a snapshot is missing or an output is not a new or empty directory
   * @throws StorageUnusableException when a snapshot or output cannot be opened (locked by a running replica, ...)
   */
  public static Summary recover(List<Path> snapshots, List<Path> outputs) {
    if (snapshots.isEmpty() || outputs.isEmpty()) {
      throw new IllegalArgumentException("recover needs at least one snapshot and one output directory");
    }
    for (Path snapshot : snapshots) {
      if (!Files.isDirectory(snapshot)) {
        throw new IllegalArgumentException("snapshot " + snapshot + " is not a directory");
      }
    }
    for (Path output : outputs) {
      if (!isNewOrEmpty(output)) {
        throw new IllegalArgumentException("output " + output + " exists and is not empty: recover writes only new data"
            + " directories");
      }
      if (snapshots.contains(output)) {
        throw new IllegalArgumentException(output + " is both a snapshot and an output");
      }
    }
    List<Long> recordsRead = new ArrayList<>();
    long keys = 0;
    long tombstones = 0;
    List<Long> replicaIds = new ArrayList<>();
    try (RocksDbStorage merged = RocksDbStorage.open(outputs.get(0), FsyncMode.ALWAYS)) {
      for (Path snapshot : snapshots) {
        recordsRead.add(mergeInto(merged, snapshot));
      }
      for (List<KeyedRecord> page = merged.scan("", PAGE); !page.isEmpty(); page = merged.scan(after(page), PAGE)) {
        keys += page.size();
        tombstones += page.stream().filter(keyed -> keyed.record().isTombstone()).count();
      }
      // A fresh id, unproven: the outputs make a brand-new cluster (docs/identity.md, rule 3).
      replicaIds.add(ReplicaMetadata.newIncarnation(merged));
      for (Path output : outputs.subList(1, outputs.size())) {
        deleteIfEmpty(output);
        merged.checkpoint(output);
      }
    }
    for (Path output : outputs.subList(1, outputs.size())) {
      try (RocksDbStorage copy = RocksDbStorage.open(output, FsyncMode.ALWAYS)) {
        replicaIds.add(ReplicaMetadata.newIncarnation(copy));
      }
    }
    return new Summary(keys, tombstones, List.copyOf(recordsRead), List.copyOf(replicaIds));
  }

  /** Applies every record of {@code snapshot} to {@code merged}, the newer version winning; returns how many were read. */
  private static long mergeInto(RocksDbStorage merged, Path snapshot) {
    long read = 0;
    try (RocksDbStorage source = RocksDbStorage.open(snapshot, FsyncMode.ALWAYS)) {
      for (List<KeyedRecord> page = source.scan("", PAGE); !page.isEmpty(); page = source.scan(after(page), PAGE)) {
        merged.applyIfNewer(page);
        read += page.size();
      }
    }
    return read;
  }

  /** The smallest key after the page's last. */
  private static String after(List<KeyedRecord> page) {
    return page.get(page.size() - 1).key() + "\0";
  }

  private static boolean isNewOrEmpty(Path directory) {
    if (!Files.exists(directory)) {
      return true;
    }
    if (!Files.isDirectory(directory)) {
      return false;
    }
    try (Stream<Path> entries = Files.list(directory)) {
      return entries.findAny().isEmpty();
    } catch (IOException e) {
      return false;
    }
  }

  /** A checkpoint's target must not exist; an empty directory the operator made for it is fine. */
  private static void deleteIfEmpty(Path directory) {
    try {
      if (Files.isDirectory(directory)) {
        Files.delete(directory);
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot use " + directory + ": " + e.getMessage(), e);
    }
  }
}
