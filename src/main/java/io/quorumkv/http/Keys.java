package io.quorumkv.http;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

/** The rule for keys (docs/design.md, "Limits and bad input"): 1..key-bytes-max bytes of UTF-8. */
public final class Keys {

  private Keys() {}

  /** Why {@code key} is not a valid key, or empty when it is. */
  public static Optional<String> problem(String key, int keyBytesMax) {
    if (key == null || key.isEmpty()) {
      return Optional.of("the key must not be empty");
    }
    int bytes = key.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > keyBytesMax) {
      return Optional.of("the key is " + bytes + " bytes of UTF-8; at most " + keyBytesMax + " are allowed");
    }
    if (key.indexOf('\uFFFD') >= 0) {
      return Optional.of("the key is not valid UTF-8");
    }
    return Optional.empty();
  }

  /**
   * Why {@code prefix} and {@code start} cannot bound a listing, or empty when they can: each
   * empty or valid UTF-8 of at most {@code keyBytesMax} bytes, one more for {@code start} (a
   * page's {@code next} may be the successor of the longest key: the key and a zero byte).
   */
  public static Optional<String> listingProblem(String prefix, String start, int keyBytesMax) {
    if (prefix == null || start == null) {
      return Optional.of("the prefix and the start must be given, empty or not");
    }
    int prefixBytes = prefix.getBytes(StandardCharsets.UTF_8).length;
    if (prefixBytes > keyBytesMax) {
      return Optional.of("the prefix is " + prefixBytes + " bytes of UTF-8; at most " + keyBytesMax + " are allowed");
    }
    int startBytes = start.getBytes(StandardCharsets.UTF_8).length;
    if (startBytes > keyBytesMax + 1) {
      return Optional.of("start is " + startBytes + " bytes of UTF-8; at most " + (keyBytesMax + 1) + " are allowed");
    }
    if (prefix.indexOf('\uFFFD') >= 0 || start.indexOf('\uFFFD') >= 0) {
      return Optional.of("the prefix or the start is not valid UTF-8");
    }
    return Optional.empty();
  }
}
