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

  /**
   * Records are merged this many at a time, so memory does not grow with the data (a page of the
   * largest values, 1 MiB by default, stays within a few hundred MiB).
   */
  private static final int PAGE = 200;

  private DisasterRecovery() {}

  /**
   * @param keys keys in the merged store, tombstones included
   * @param recordsRead records read from each snapshot, in order
   * @param corruptSkipped corrupt records skipped in each snapshot, in order (0 unless accepted)
   * @param replicaIds the new replica id of each output, in order
   */
  public record Summary(
      long keys, long tombstones, List<Long> recordsRead, List<Long> corruptSkipped, List<Long> replicaIds) {}

  /**
   * Each output is written under {@code <output>.recovering} and renamed into place only once it
   * holds everything and its own id, so a run that fails midway leaves no output a replica could
   * start on (and none sharing an id with another).
   *
   * @param acceptCorrupt whether to go on when a snapshot holds records that cannot be decoded;
   *     their keys then take the newest readable record elsewhere, which may be older than the lost one
   * @throws IllegalArgumentException when a snapshot is missing, an output is not a new or empty
   *     directory, or (unless accepted) a snapshot holds corrupt records
   * @throws StorageUnusableException when a snapshot or output cannot be opened (locked by a running replica, ...)
   */
  public static Summary recover(List<Path> snapshots, List<Path> outputs, boolean acceptCorrupt) {
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
    List<Path> building = outputs.stream().map(DisasterRecovery::building).toList();
    for (Path partial : building) {
      deleteRecursively(partial); // left by a run that failed
    }
    List<Long> recordsRead = new ArrayList<>();
    List<Long> corruptSkipped = new ArrayList<>();
    long keys = 0;
    long tombstones = 0;
    List<Long> replicaIds = new ArrayList<>();
    try (RocksDbStorage merged = RocksDbStorage.open(building.get(0), FsyncMode.ALWAYS)) {
      for (Path snapshot : snapshots) {
        long[] readAndCorrupt = mergeInto(merged, snapshot, acceptCorrupt);
        recordsRead.add(readAndCorrupt[0]);
        corruptSkipped.add(readAndCorrupt[1]);
      }
      for (List<KeyedRecord> page = merged.scan("", PAGE); !page.isEmpty(); page = merged.scan(after(page), PAGE)) {
        keys += page.size();
        tombstones += page.stream().filter(keyed -> keyed.record().isTombstone()).count();
      }
      // A fresh id, unproven: the outputs make a brand-new cluster (docs/identity.md, rule 3), and
      // only that: one that finds a peer which saw another replica in its place discards its records.
      replicaIds.add(ReplicaMetadata.newIncarnation(merged));
      ReplicaMetadata.markRecoveredCluster(merged);
      for (Path copy : building.subList(1, building.size())) {
        merged.checkpoint(copy);
      }
    }
    for (Path copy : building.subList(1, building.size())) {
      try (RocksDbStorage output = RocksDbStorage.open(copy, FsyncMode.ALWAYS)) {
        replicaIds.add(ReplicaMetadata.newIncarnation(output));
      }
    }
    for (int i = 0; i < outputs.size(); i++) {
      publish(building.get(i), outputs.get(i));
    }
    return new Summary(keys, tombstones, List.copyOf(recordsRead), List.copyOf(corruptSkipped), List.copyOf(replicaIds));
  }

  /**
   * Applies every record of {@code snapshot} to {@code merged}, the newer version winning;
   * returns how many were read and how many were skipped as corrupt.
   */
  private static long[] mergeInto(RocksDbStorage merged, Path snapshot, boolean acceptCorrupt) {
    long read = 0;
    List<String> corrupt = new ArrayList<>();
    try (RocksDbStorage source = RocksDbStorage.open(snapshot, FsyncMode.ALWAYS, e -> corrupt.add(e.getMessage()))) {
      for (List<KeyedRecord> page = source.scan("", PAGE); !page.isEmpty(); page = source.scan(after(page), PAGE)) {
        merged.applyIfNewer(page);
        read += page.size();
      }
    }
    if (!corrupt.isEmpty() && !acceptCorrupt) {
      throw new IllegalArgumentException("snapshot " + snapshot + " holds " + corrupt.size() + " corrupt record(s) ("
          + corrupt.get(0) + "): their keys would take an older record from another snapshot; rerun with"
          + " --accept-corrupt to accept that");
    }
    return new long[] {read, corrupt.size()};
  }

  private static Path building(Path output) {
    Path absolute = output.toAbsolutePath().normalize();
    return absolute.resolveSibling(absolute.getFileName() + ".recovering");
  }

  /** Moves a finished output into place (an empty directory the operator made is replaced). */
  private static void publish(Path partial, Path output) {
    try {
      if (Files.isDirectory(output)) {
        Files.delete(output); // checked empty above
      }
      Files.move(partial, output, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      DataSnapshots.syncDirectory(output.toAbsolutePath().normalize().getParent());
    } catch (IOException e) {
      throw new IllegalStateException("cannot move " + partial + " to " + output + ": " + e.getMessage(), e);
    }
  }

  private static void deleteRecursively(Path directory) {
    if (!Files.exists(directory)) {
      return;
    }
    try (Stream<Path> files = Files.walk(directory)) {
      for (Path file : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(file);
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot remove " + directory + " left by an earlier run: " + e.getMessage(), e);
    }
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


}
