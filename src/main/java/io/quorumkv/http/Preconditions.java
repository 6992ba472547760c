package io.quorumkv.http;

import io.quorumkv.coordinator.Condition;
import io.quorumkv.version.Version;
import java.util.Optional;

/**
 * The conditional request headers of {@code /kv/{key}} (docs/api.md, "Conditional requests"),
 * parsed strictly: a header that is present but malformed is an error, never ignored (a client
 * that meant a condition must not get an unconditional write).
 *
 * <ul>
 *   <li>PUT, DELETE: {@code If-Match: "<version>"} (exactly one version, strong) or
 *       {@code If-None-Match: *}, not both.
 *   <li>GET: {@code If-None-Match: "<version>"} or {@code *} (304 when it matches).
 * </ul>
 */
final class Preconditions {

  /** A parsed header: the condition, or the reason it is malformed. */
  record Parsed<T>(Optional<T> value, Optional<String> problem) {
    static <T> Parsed<T> none() {
      return new Parsed<>(Optional.empty(), Optional.empty());
    }

    static <T> Parsed<T> of(T value) {
      return new Parsed<>(Optional.of(value), Optional.empty());
    }

    static <T> Parsed<T> malformed(String problem) {
      return new Parsed<>(Optional.empty(), Optional.of(problem));
    }
  }

  /** What a GET's {@code If-None-Match} asks: not modified when the current version is {@code version} (empty: any). */
  record NotModifiedIf(Optional<Version> version) {}

  private Preconditions() {}

  /** The condition of a PUT or DELETE. */
  static Parsed<Condition> forWrite(Optional<String> ifMatch, Optional<String> ifNoneMatch) {
    if (ifMatch.isPresent() && ifNoneMatch.isPresent()) {
      return Parsed.malformed("If-Match and If-None-Match cannot be combined");
    }
    if (ifMatch.isPresent()) {
      Optional<Version> version = entityTag(ifMatch.get());
      return version.<Parsed<Condition>>map(expected -> Parsed.of(new Condition.IfMatch(expected)))
          .orElseGet(() -> Parsed.malformed("If-Match takes one version as the ETag gives it, \"<version>\", not "
              + quoted(ifMatch.get())));
    }
    if (ifNoneMatch.isPresent()) {
      return ifNoneMatch.get().trim().equals("*")
          ? Parsed.of(new Condition.IfAbsent())
          : Parsed.malformed("on a write If-None-Match takes only *, not " + quoted(ifNoneMatch.get()));
    }
    return Parsed.none();
  }

  /** The condition of a GET. */
  static Parsed<NotModifiedIf> forRead(Optional<String> ifMatch, Optional<String> ifNoneMatch) {
    if (ifMatch.isPresent()) {
      return Parsed.malformed("If-Match applies to PUT and DELETE; a GET takes If-None-Match");
    }
    if (ifNoneMatch.isEmpty()) {
      return Parsed.none();
    }
    if (ifNoneMatch.get().trim().equals("*")) {
      return Parsed.of(new NotModifiedIf(Optional.empty()));
    }
    return entityTag(ifNoneMatch.get())
        .map(version -> Parsed.of(new NotModifiedIf(Optional.of(version))))
        .orElseGet(() -> Parsed.malformed("If-None-Match takes one version as the ETag gives it, \"<version>\", or *,"
            + " not " + quoted(ifNoneMatch.get())));
  }

  /** {@code "<version>"}: one strong entity tag holding a version above zero. */
  private static Optional<Version> entityTag(String header) {
    String text = header.trim();
    if (text.length() < 3 || text.charAt(0) != '"' || text.charAt(text.length() - 1) != '"') {
      return Optional.empty();
    }
    try {
      Version version = Version.parse(text.substring(1, text.length() - 1));
      return version.hlc() > 0 ? Optional.of(version) : Optional.empty();
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  private static String quoted(String header) {
    String shown = header.length() > 80 ? header.substring(0, 80) + "..." : header;
    return "'" + shown + "'";
  }
}
