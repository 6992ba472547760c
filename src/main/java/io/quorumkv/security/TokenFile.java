package io.quorumkv.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code AUTH_TOKENS_FILE}, read at start and again whenever it changes (its modification
 * time or size, checked by {@link #reloadIfChanged}, which the replica calls every two seconds):
 * tokens are added and revoked without a restart. A file that turns malformed or unreadable
 * keeps the tokens it last held, with an error logged, rather than locking every client out or
 * letting everyone in.
 */
public final class TokenFile {

  private static final Logger log = LoggerFactory.getLogger(TokenFile.class);

  /** A file this large is not a tokens file: refused rather than read into memory. */
  static final long BYTES_MAX = 1 << 20;

  private final Path path;
  private volatile TokenBook book;
  private FileTime modified; // guarded by this
  private long size; // guarded by this

  private TokenFile(Path path) {
    this.path = path;
  }

  /**
   * @throws IllegalArgumentException with a one-line reason when the file cannot be read or is malformed
   */
  public static TokenFile open(Path path) {
    TokenFile file = new TokenFile(path);
    try {
      file.load();
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read AUTH_TOKENS_FILE " + path + ": " + e, e);
    }
    return file;
  }

  public TokenBook book() {
    return book;
  }

  public Path path() {
    return path;
  }

  /** Reads the file again if it changed since it was last read; keeps the old tokens if it cannot. */
  public synchronized void reloadIfChanged() {
    try {
      if (Objects.equals(Files.getLastModifiedTime(path), modified) && Files.size(path) == size) {
        return;
      }
      int before = book.size();
      load();
      log.info("Reloaded {}: {} tokens (were {})", path, book.size(), before);
    } catch (IOException | IllegalArgumentException e) {
      log.error("Could not reload {} ({}); keeping the {} tokens it held", path, e.getMessage(), book.size());
    }
  }

  private synchronized void load() throws IOException {
    FileTime time = Files.getLastModifiedTime(path);
    long length = Files.size(path);
    // Recorded first: a malformed version is reported once, not every two seconds until fixed.
    modified = time;
    size = length;
    if (length > BYTES_MAX) {
      throw new IllegalArgumentException(path + " is larger than " + BYTES_MAX + " bytes");
    }
    book = TokenBook.parse(Files.readAllLines(path, StandardCharsets.UTF_8), path.toString());
  }
}
