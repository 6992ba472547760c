package io.quorumkv.client;

import java.util.Locale;

/** The consistency level of one request; see the README for what each one promises. */
public enum Consistency {
  ONE, QUORUM, ALL;

  public static Consistency parse(String text) {
    try {
      return valueOf(text.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("consistency must be one, quorum or all, not '" + text + "'", e);
    }
  }

  String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
