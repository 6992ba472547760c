package io.quorumkv.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Snapshots of a replica's data directory, for backups (docs/operating.md, "Backup and
 * restore"). A snapshot is a RocksDB checkpoint plus a marker file naming where it came from.
 *
 * <p>The marker is what makes restoring one replica safe by construction: a replica that starts
 * on a data directory holding it treats the directory as gone backwards (docs/identity.md,
 * rule 1), whatever its peers have or have not noticed: it discards the old records, takes a new
 * replica id and rebuilds from its peers before it counts. Keeping the old records instead could
 * bring back a value whose delete has since been purged everywhere else. The snapshot's own
 * records serve disaster recovery, when every replica is lost ({@link DisasterRecovery}).
 */
public final class DataSnapshots {

  /** The marker file inside a snapshot. */
  public static final String MARKER = "QUORUMKV-SNAPSHOT";

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}");

  private DataSnapshots() {}

  /** A snapshot taken: its directory and the bytes its files take (hard links count whole). */
  public record Taken(String name, Path path, long bytes, Instant createdAt) {}

  /** Why a snapshot was not taken, as a client's mistake (4xx) or not. */
  public static final class Refused extends RuntimeException {
    private final boolean clientError;

    Refused(String message, boolean clientError) {
      super(message, null, false, false);
      this.clientError = clientError;
    }

    public boolean clientError() {
      return clientError;
    }
  }

  /** Whether {@code name} can name a snapshot directory: 1-100 of letters, digits, '.', '_', '-'. */
  public static boolean validName(String name) {
    return NAME.matcher(name).matches() && !name.equals(".") && !name.equals("..");
  }

  /**
   * Takes a snapshot of {@code storage} as {@code directory/name}.
   *
   * @param origin what the marker says the snapshot is of (node, replica id), for the operator
   * @throws Refused for a bad or taken name (client errors), or a directory that cannot be written
   */
  public static Taken take(RocksDbStorage storage, Path directory, String name, String origin) {
    if (!validName(name)) {
      throw new Refused("a snapshot name is 1-100 letters, digits, '.', '_' or '-', starting with a letter or"
          + " digit, not '" + name + "'", true);
    }
    Path target = directory.resolve(name);
    try {
      Files.createDirectories(directory);
    } catch (IOException e) {
      throw new Refused("cannot create the snapshot directory " + directory + ": " + e.getMessage(), false);
    }
    if (Files.exists(target)) {
      throw new Refused("a snapshot named " + name + " exists already in " + directory, true);
    }
    // Built under a hidden name and published by a rename only once marked: a crash or a failure
    // midway never leaves an unmarked snapshot that could be restored as if it were current.
    Path partial = directory.resolve("." + name + ".partial");
    Instant createdAt = Instant.now();
    try {
      deleteRecursively(partial); // left by a crash during an earlier attempt
      storage.checkpoint(partial);
      writeSynced(partial.resolve(MARKER), "QuorumKV data snapshot\ncreated " + createdAt + "\nof " + origin
          + "\nA replica started on this directory discards these records and rebuilds from its peers;"
          + "\nto rebuild a whole cluster from snapshots, see docs/operating.md, \"Disaster recovery\".\n");
      syncDirectory(partial);
      Files.move(partial, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      syncDirectory(directory);
      return new Taken(name, target, sizeOf(target), createdAt);
    } catch (IOException e) {
      throw new Refused("snapshot " + name + " failed: " + e.getMessage(), false);
    } finally {
      try {
        deleteRecursively(partial);
      } catch (IOException e) {
        // Left for the next attempt under this name, which removes it first.
      }
    }
  }

  private static void deleteRecursively(Path directory) throws IOException {
    if (!Files.exists(directory)) {
      return;
    }
    try (Stream<Path> files = Files.walk(directory)) {
      for (Path file : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(file);
      }
    }
  }

  /** Whether the data directory is a snapshot put back in place (its marker is there). */
  public static boolean isRestored(Path dataDirectory) {
    return Files.exists(dataDirectory.resolve(MARKER));
  }

  /** Removes the marker, durably, once the restore has been recorded in the store. */
  public static void clearMarker(Path dataDirectory) {
    try {
      Files.deleteIfExists(dataDirectory.resolve(MARKER));
      syncDirectory(dataDirectory);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot remove " + dataDirectory.resolve(MARKER), e);
    }
  }

  static long sizeOf(Path directory) throws IOException {
    try (Stream<Path> files = Files.walk(directory)) {
      return files.filter(Files::isRegularFile).mapToLong(file -> file.toFile().length()).sum();
    }
  }

  private static void writeSynced(Path file, String text) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      channel.write(java.nio.ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
      channel.force(true);
    }
  }

  static void syncDirectory(Path directory) throws IOException {
    try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }
}
