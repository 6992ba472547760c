package io.quorumkv.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.rocksdb.NativeLibraryLoader;

/**
 * Loads RocksDB's native library from a directory the replica chooses. Left to itself, RocksDB
 * unpacks the library into {@code java.io.tmpdir} on first use, and a {@code /tmp} mounted
 * {@code noexec} (a common hardening) then stops the replica at start. Unpacked here, it has a
 * fixed file name, replaced at each start, so restarts and crashes leave no copies behind.
 */
public final class RocksDbNativeLibrary {

  private RocksDbNativeLibrary() {}

  /**
   * Unpacks and loads the library in {@code directory} (created if missing); must run before the
   * first use of RocksDB in this process, whose own loader then finds it loaded.
   *
   * @throws StorageUnusableException when the directory cannot be created or the library not loaded there
   */
  public static void load(Path directory) {
    try {
      Files.createDirectories(directory);
      NativeLibraryLoader.getInstance().loadLibrary(directory.toString());
    } catch (IOException e) {
      if (String.valueOf(e.getMessage()).contains("No space left")) {
        throw new StorageFullException("cannot unpack RocksDB's native library in " + directory + ": " + e.getMessage(), e);
      }
      throw new StorageUnusableException("cannot unpack RocksDB's native library in " + directory
          + " (quorumkv.storage.native-library-dir): " + e, e);
    } catch (RuntimeException | UnsatisfiedLinkError e) {
      throw new StorageUnusableException("cannot load RocksDB's native library in " + directory
          + " (quorumkv.storage.native-library-dir; it must be writable and not mounted noexec): " + e, e);
    }
  }
}
