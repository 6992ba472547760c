package io.quorumkv.client;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;

/** Command-line durations, as the replica's configuration writes them: {@code 500ms}, {@code 5s}, {@code 2m}. */
public final class Durations {

  private Durations() {}

  /** A positive duration; anything else is an {@link IllegalArgumentException} with a one-line reason. */
  public static Duration parse(String text) {
    try {
      Duration duration = ConfigFactory.parseString("d = \"" + text.replace("\"", "") + "\"").getDuration("d");
      if (duration.isNegative() || duration.isZero()) {
        throw new IllegalArgumentException("a duration must be positive: " + text);
      }
      return duration;
    } catch (ConfigException e) {
      throw new IllegalArgumentException("not a duration: '" + text + "' (e.g. 500ms, 5s, 2m)", e);
    }
  }
}
