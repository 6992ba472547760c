package io.quorumkv.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * The clock's durable mark, in a small file of its own that is overwritten in place.
 *
 * <p>Why not in RocksDB with the rest of the metadata: when the disk is full, RocksDB refuses
 * every write, and a clock that cannot record a new mark can observe nothing past the old one,
 * so the replica could not even answer reads. Overwriting bytes that are already allocated
 * needs no free space (ext4, xfs and tmpfs; a copy-on-write file system such as btrfs or ZFS
 * may still need some), so the mark keeps moving on a full disk.
 *
 * <p>Layout: two slots 4 KiB apart, so no torn sector can spoil both, each holding sequence,
 * mark and a CRC32C of both; they are written in turn, each synced before {@link #write}
 * returns. A write torn by a crash spoils only the slot being written; the other still holds
 * the previous mark, and no version at or above that one was issued, since the clock passes a
 * mark only once its successor is durable. At open the valid slot with the higher sequence
 * wins. A file that holds bytes but no valid slot gives no mark to trust: it reads as
 * {@link Long#MAX_VALUE}, which no wall clock is near, so the replica starts under a new
 * replica id with a fresh clock (docs/clock-discipline.md, rule 2).
 *
 * <p>Plain {@link RandomAccessFile} I/O, not a {@code FileChannel}: a channel closes for good
 * when a thread writing to it is interrupted, and any thread that moves the clock writes here.
 */
final class ClockMarkFile implements AutoCloseable {

  static final String FILE_NAME = "QUORUMKV-CLOCK-MARK";
  private static final int SLOT_BYTES = 24;
  private static final int SLOT_SPACING = 4096;

  private final RandomAccessFile file;
  private long sequence;
  private long mark;

  private ClockMarkFile(RandomAccessFile file, long sequence, long mark) {
    this.file = file;
    this.sequence = sequence;
    this.mark = mark;
  }

  /** Opens (creating, with both slots allocated) the mark file in {@code directory}. */
  static ClockMarkFile open(Path directory) {
    RandomAccessFile file = null;
    try {
      Path path = directory.resolve(FILE_NAME);
      boolean created = !java.nio.file.Files.exists(path);
      file = new RandomAccessFile(path.toFile(), "rw");
      if (file.length() < SLOT_SPACING + SLOT_BYTES) {
        // Allocated once, while there is room: later writes only overwrite these bytes.
        file.seek(0);
        file.write(new byte[SLOT_SPACING + SLOT_BYTES]);
        file.getFD().sync();
      }
      if (created) {
        syncDirectory(directory); // the new file's entry, so a crash cannot lose the file itself
      }
      long bestSequence = 0;
      long bestMark = 0;
      boolean anyBytes = false;
      for (int slot = 0; slot < 2; slot++) {
        byte[] raw = new byte[SLOT_BYTES];
        file.seek((long) slot * SLOT_SPACING);
        file.readFully(raw);
        for (byte b : raw) {
          anyBytes |= b != 0;
        }
        ByteBuffer bytes = ByteBuffer.wrap(raw);
        long slotSequence = bytes.getLong();
        long slotMark = bytes.getLong();
        long checksum = bytes.getLong();
        if (slotSequence > bestSequence && checksum == checksum(slotSequence, slotMark)) {
          bestSequence = slotSequence;
          bestMark = slotMark;
        }
      }
      if (bestSequence == 0 && anyBytes) {
        bestMark = Long.MAX_VALUE; // written, but no slot can be trusted: see the class comment
      }
      return new ClockMarkFile(file, bestSequence, bestMark);
    } catch (IOException e) {
      closeQuietly(file);
      throw new StorageUnusableException("cannot open the clock mark file in " + directory + ": " + e, e);
    }
  }

  /** The last mark written; 0 when none was. */
  synchronized long mark() {
    return mark;
  }

  private static void syncDirectory(Path directory) throws IOException {
    try (java.nio.channels.FileChannel dir = java.nio.channels.FileChannel.open(directory,
        java.nio.file.StandardOpenOption.READ)) {
      dir.force(true);
    }
  }

  /** Writes {@code newMark} durably (synced) before returning. */
  synchronized void write(long newMark) {
    long next = sequence + 1;
    ByteBuffer bytes = ByteBuffer.allocate(SLOT_BYTES);
    bytes.putLong(next).putLong(newMark).putLong(checksum(next, newMark));
    try {
      file.seek((next % 2) * SLOT_SPACING);
      file.write(bytes.array());
      file.getFD().sync();
    } catch (IOException e) {
      throw isNoSpace(e) ? new StorageFullException("cannot write the clock mark: " + e.getMessage(), e)
          : new UncheckedIOException("cannot write the clock mark", e);
    }
    sequence = next;
    mark = newMark;
  }

  private static boolean isNoSpace(IOException e) {
    return String.valueOf(e.getMessage()).contains("No space left");
  }

  private static long checksum(long sequence, long mark) {
    CRC32C crc = new CRC32C();
    crc.update(ByteBuffer.allocate(16).putLong(sequence).putLong(mark).flip());
    return crc.getValue();
  }

  @Override
  public synchronized void close() {
    closeQuietly(file);
  }

  private static void closeQuietly(RandomAccessFile file) {
    try {
      if (file != null) {
        file.close();
      }
    } catch (IOException e) {
      // Closing after a synced write loses nothing.
    }
  }
}
