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
}
