package io.quorumkv.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code AUTH_TOKENS_FILE}, read at start and again whenever its content changes (checked by
 * {@link #reloadIfChanged}, which the replica calls every two seconds):
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
  private byte[] contentDigest; // guarded by this: what the tokens in use were read from
  private String lastProblem; // guarded by this: logged once until it changes

  private TokenFile(Path path) {
    this.path = path;
  }

  /**
   * @throws IllegalArgumentException with a one-line reason when the file cannot be read, is
   *     malformed or holds no tokens
   */
  public static TokenFile open(Path path) {
    TokenFile file = new TokenFile(path);
    try {
      byte[] content = read(path);
      file.book = TokenBook.parse(lines(content), path.toString());
      file.contentDigest = digest(content);
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

  /**
   * Reads the file again and takes its tokens if its content changed (compared by digest, so a
   * same-sized edit within one timestamp tick is seen too). A file that cannot be read, is
   * malformed or holds no tokens (as it does while an editor rewrites it) keeps the tokens in use,
   * with the problem logged once; it never throws, so the schedule that calls it goes on.
   */
  public synchronized void reloadIfChanged() {
    try {
      byte[] content = read(path);
      byte[] digest = digest(content);
      if (java.security.MessageDigest.isEqual(digest, contentDigest)) {
        lastProblem = null;
        return;
      }
      int before = book.size();
      book = TokenBook.parse(lines(content), path.toString());
      contentDigest = digest;
      lastProblem = null;
      log.info("Reloaded {}: {} tokens (were {})", path, book.size(), before);
    } catch (IOException | RuntimeException e) {
      String problem = String.valueOf(e.getMessage());
      if (!problem.equals(lastProblem)) {
        log.error("Could not reload {} ({}); keeping the {} tokens in use", path, problem, book.size());
        lastProblem = problem;
      }
    }
  }

  private static byte[] read(Path path) throws IOException {
    if (Files.size(path) > BYTES_MAX) {
      throw new IllegalArgumentException(path + " is larger than " + BYTES_MAX + " bytes");
    }
    return Files.readAllBytes(path);
  }

  private static java.util.List<String> lines(byte[] content) {
    return new String(content, StandardCharsets.UTF_8).lines().toList();
  }

  private static byte[] digest(byte[] content) {
    try {
      return java.security.MessageDigest.getInstance("SHA-256").digest(content);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
