package io.quorumkv.store;

import io.quorumkv.config.FsyncMode;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import io.quorumkv.version.Version;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Goal: RocksDB on a disk that really is full (ENOSPC from the kernel) refuses writes with
 * {@link StorageFullException}, still reads, still records the clock mark (in place), and
 * takes writes again by itself once room is made, with nothing it had acknowledged lost.
 * Method: a small tmpfs mounted for the test (root only: skipped, and saying so, elsewhere; CI
 * runs as root), filled with a file and then with records; the file is deleted to make room.
 */
public class RocksDbDiskFullTest {

  private static final int VALUE_BYTES = 100_000;
  private Path mountPoint;
  private boolean mounted;

  @Before
  public void mountSmallDisk() throws Exception {
    mountPoint = Files.createTempDirectory("quorumkv-full-disk");
    Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=160m", "tmpfs", mountPoint.toString())
        .redirectErrorStream(true).start();
    boolean done = mount.waitFor(30, TimeUnit.SECONDS);
    mounted = done && mount.exitValue() == 0;
    if (!done) {
      mount.destroyForcibly();
    }
    assumeTrue("needs root to mount a tmpfs (a real full disk); not root here, so skipped", mounted);
  }

  @After
  public void unmount() throws Exception {
    if (mounted) {
      Process umount = new ProcessBuilder("umount", mountPoint.toString()).redirectErrorStream(true).start();
      if (!umount.waitFor(30, TimeUnit.SECONDS)) {
        umount.destroyForcibly();
      }
    }
    Files.deleteIfExists(mountPoint);
  }

  @Test
  public void aFullDiskRefusesWritesKeepsReadsAndTheClockMarkAndRecoversWhenRoomIsMade() throws Exception {
    Path filler = mountPoint.resolve("filler");
    Files.write(filler, new byte[120 << 20]);
    Path directory = mountPoint.resolve("data");
    int written = 0;
    try (RocksDbStorage storage = RocksDbStorage.open(directory, FsyncMode.ALWAYS)) {
      StorageFullException full = null;
      for (int i = 0; i < 2_000 && full == null; i++) { // 40 MiB left: full after some 400
        try {
          storage.applyIfNewer(List.of(record(i)));
          written++;
        } catch (StorageFullException e) {
          full = e;
        }
      }
      assertTrue("the disk never filled", full != null);
      assertTrue(full.getMessage(), full.getMessage().contains("disk is full"));
      assertThrows(StorageFullException.class, () -> storage.applyIfNewer(List.of(record(5_000))));
      assertThrows(StorageFullException.class, () -> storage.putMeta("probe", new byte[] {1}));

      assertEquals(Optional.of(record(0).record()), storage.get("k0"));
      assertEquals(Optional.of(record(written - 1).record()), storage.get("k" + (written - 1)));
      storage.putClockMark(777L); // in place: works on the full disk
      assertEquals(777L, storage.clockMark());

      Files.delete(filler);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (!writable(storage)) {
        assertTrue("writes did not resume within 120 s of making room", System.nanoTime() < deadline);
        Thread.sleep(200);
      }
      storage.applyIfNewer(List.of(record(5_000)));
    }
    try (RocksDbStorage reopened = RocksDbStorage.open(directory, FsyncMode.ALWAYS)) {
      for (int i = 0; i < written; i++) {
        assertEquals("k" + i, Optional.of(record(i).record()), reopened.get("k" + i));
      }
      assertEquals(Optional.of(record(5_000).record()), reopened.get("k5000"));
      assertEquals(777L, reopened.clockMark());
    }
  }

  private static boolean writable(RocksDbStorage storage) {
    try {
      storage.putMeta("probe", new byte[] {1});
      return true;
    } catch (StorageFullException e) {
      return false;
    }
  }

  private static KeyedRecord record(int i) {
    byte[] value = new byte[VALUE_BYTES];
    new java.util.Random(i).nextBytes(value);
    return new KeyedRecord("k" + i, Record.of(new Version(1_000L + i, 7L), Value.wrap(value)));
  }
}
