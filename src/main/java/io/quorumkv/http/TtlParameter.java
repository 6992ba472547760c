package io.quorumkv.http;

import io.quorumkv.store.Record;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code ttl} parameter of a PUT: whole digits and a unit ({@code 1500ms}, {@code 30s},
 * {@code 5m}, {@code 2h}, {@code 7d}), from 1 s to 10 years (docs/listing-watch-ttl.md). Strict on
 * purpose: a TTL that is silently read as another one (seconds for minutes) loses data.
 */
final class TtlParameter {

  private static final Pattern FORM = Pattern.compile("([0-9]{1,15})(ms|s|m|h|d)");

  /** The TTL in milliseconds, or the problem with {@code text}. */
  record Parsed(long millis, String problem) {}

  private TtlParameter() {}

  static Parsed parse(String text) {
    Matcher matcher = FORM.matcher(text);
    if (!matcher.matches()) {
      return problem("ttl must be a whole number and a unit (ms, s, m, h or d), e.g. 30s, not '" + text + "'");
    }
    long amount = Long.parseLong(matcher.group(1));
    long unitMillis = switch (matcher.group(2)) {
      case "ms" -> 1L;
      case "s" -> 1_000L;
      case "m" -> 60_000L;
      case "h" -> 3_600_000L;
      default -> 86_400_000L;
    };
    if (amount > Record.TTL_MAX_MILLIS / unitMillis) {
      return problem("ttl must be at most 10 years, not '" + text + "'");
    }
    long millis = amount * unitMillis;
    if (millis < Record.TTL_MIN_MILLIS) {
      return problem("ttl must be at least 1s, not '" + text + "'");
    }
    return new Parsed(millis, null);
  }

  private static Parsed problem(String problem) {
    return new Parsed(0L, problem);
  }
}
