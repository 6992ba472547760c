package io.quorumkv.http;

import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.HttpChallenge;
import akka.http.javadsl.model.headers.WWWAuthenticate;
import akka.http.javadsl.server.Directives;
import akka.http.javadsl.server.Route;
import io.quorumkv.security.AccessAudit;
import io.quorumkv.security.Role;
import io.quorumkv.security.TokenBook;
import io.quorumkv.security.TokenFile;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;

/**
 * Client tokens as a route directive (docs/operating.md, "Tokens and roles"): with an
 * {@code AUTH_TOKENS_FILE}, a request needs {@code Authorization: Bearer <token>} of a role that
 * includes {@code needed}; a missing or unknown token gets 401 with {@code WWW-Authenticate:
 * Bearer}, a role too low 403, JSON either way, counted and logged. Without the file every request
 * passes (the network-access rules still apply).
 */
final class AuthCheck {

  private static final String SCHEME = "bearer ";

  private AuthCheck() {}

  /** {@code inner} gets the caller's name: the token's, or "anyone" when no tokens are configured. */
  static Route require(
      Optional<TokenFile> tokens, Role needed, AccessAudit audit, String what, Function<String, Route> inner) {
    if (tokens.isEmpty()) {
      return inner.apply("anyone");
    }
    return Directives.extractRequest(request -> {
      Optional<String> presented = request.getHeader("Authorization").map(header -> header.value().trim())
          .filter(value -> value.toLowerCase(Locale.ROOT).startsWith(SCHEME))
          .map(value -> value.substring(SCHEME.length()).trim());
      String address = AccessCheck.remoteAddress(request).map(java.net.InetAddress::getHostAddress).orElse("?");
      if (presented.isEmpty()) {
        audit.refused(AccessAudit.AuthRefusal.MISSING_TOKEN, address, what);
        return Directives.complete(unauthorized("a token is required: send Authorization: Bearer <token>"));
      }
      Optional<TokenBook.Entry> entry = tokens.get().book().find(presented.get());
      if (entry.isEmpty()) {
        audit.refused(AccessAudit.AuthRefusal.UNKNOWN_TOKEN, address, what);
        return Directives.complete(unauthorized("unknown token"));
      }
      if (!entry.get().role().includes(needed)) {
        audit.refused(AccessAudit.AuthRefusal.ROLE_TOO_LOW, entry.get().name(), what);
        return Directives.complete(JsonResponses.error(StatusCodes.FORBIDDEN, "this token's role ("
            + entry.get().role().name().toLowerCase(Locale.ROOT) + ") does not allow " + what,
            "required", needed.name().toLowerCase(Locale.ROOT)));
      }
      return inner.apply(entry.get().name());
    });
  }

  private static HttpResponse unauthorized(String reason) {
    return JsonResponses.error(StatusCodes.UNAUTHORIZED, reason)
        .addHeader(WWWAuthenticate.create(HttpChallenge.create("Bearer", "quorumkv")));
  }
}
