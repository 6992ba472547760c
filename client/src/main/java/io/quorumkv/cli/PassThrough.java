package io.quorumkv.cli;

import java.util.ArrayList;
import java.util.List;

/** Arguments for the commands that keep their own parsers (bench, torture). */
final class PassThrough {

  private PassThrough() {}

  /** {@code --x=y} becomes {@code --x y}, so every command takes both forms. */
  static List<String> split(List<String> args) {
    List<String> words = new ArrayList<>();
    if (args == null) {
      return words;
    }
    for (String arg : args) {
      int equals = arg.indexOf('=');
      if (arg.startsWith("--") && equals > 2) {
        words.add(arg.substring(0, equals));
        words.add(arg.substring(equals + 1));
      } else {
        words.add(arg);
      }
    }
    return words;
  }
}
