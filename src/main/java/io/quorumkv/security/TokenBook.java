package io.quorumkv.security;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The client tokens of an {@code AUTH_TOKENS_FILE}: one per line, {@code <token> <role> [name]},
 * roles {@code read}, {@code readwrite}, {@code admin}; {@code #} starts a comment. A token may be
 * written {@code sha256:<64 hex digits>}, its digest, so the file need not hold it in clear. Only
 * digests are kept, and a presented token is compared with every entry in constant time.
 */
public final class TokenBook {

  /** A known token: the SHA-256 of its text, its role, and the name logs give its holder. */
  public record Entry(byte[] digest, Role role, String name) {}

  /** Tokens shorter than this are refused as guessable. */
  static final int TOKEN_CHARS_MIN = 16;

  /** RFC 6750's token68: what a Bearer credential may hold. */
  private static final java.util.regex.Pattern TOKEN68 = java.util.regex.Pattern.compile("[A-Za-z0-9._~+/-]+=*");

  private final List<Entry> entries;

  private TokenBook(List<Entry> entries) {
    this.entries = List.copyOf(entries);
  }

  public int size() {
    return entries.size();
  }

  /**
   * @param source named in the reasons (the file's path)
   * @throws IllegalArgumentException with a one-line reason naming the line, for anything malformed
   */
  public static TokenBook parse(List<String> lines, String source) {
    List<Entry> entries = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      int hash = line.indexOf('#');
      String content = (hash >= 0 ? line.substring(0, hash) : line).trim();
      if (content.isEmpty()) {
        continue;
      }
      String[] fields = content.split("\\s+");
      String where = source + " line " + (i + 1);
      if (fields.length < 2 || fields.length > 3) {
        throw new IllegalArgumentException(where + ": expected '<token> <role> [name]'");
      }
      Role role;
      try {
        role = Role.valueOf(fields[1].toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(where + ": the role must be read, readwrite or admin, not '" + fields[1] + "'");
      }
      byte[] digest;
      if (fields[0].startsWith("sha256:")) {
        String hex = fields[0].substring("sha256:".length());
        if (!hex.matches("[0-9a-fA-F]{64}")) {
          throw new IllegalArgumentException(where + ": sha256: must be followed by 64 hexadecimal digits");
        }
        digest = HexFormat.of().parseHex(hex.toLowerCase(Locale.ROOT));
      } else {
        if (fields[0].length() < TOKEN_CHARS_MIN) {
          throw new IllegalArgumentException(where + ": a token must have at least " + TOKEN_CHARS_MIN + " characters");
        }
        if (!TOKEN68.matcher(fields[0]).matches()) {
          // Anything else makes akka-http's header parser warn, quoting the header, token and all.
          throw new IllegalArgumentException(where + ": a token may hold only letters, digits and . _ ~ + / -"
              + " (and = at its end)");
        }
        digest = sha256(fields[0]);
      }
      for (Entry earlier : entries) {
        if (MessageDigest.isEqual(earlier.digest(), digest)) {
          // The first line would win in silence: a token demoted by a later line would keep its role.
          throw new IllegalArgumentException(where + ": the same token as " + earlier.name());
        }
      }
      entries.add(new Entry(digest, role, fields.length == 3 ? fields[2] : "token on " + where));
    }
    if (entries.isEmpty()) {
      // An empty file locks every client out, and a file read while being rewritten looks empty.
      throw new IllegalArgumentException(source + " holds no tokens");
    }
    return new TokenBook(entries);
  }

  /** The entry whose token is {@code presented}; every entry is compared, in constant time each. */
  public Optional<Entry> find(String presented) {
    byte[] digest = sha256(presented);
    Entry found = null;
    for (Entry entry : entries) {
      if (MessageDigest.isEqual(entry.digest(), digest) && found == null) {
        found = entry;
      }
    }
    return Optional.ofNullable(found);
  }

  static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
