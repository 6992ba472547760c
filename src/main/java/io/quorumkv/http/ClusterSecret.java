package io.quorumkv.http;

import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.Directives;
import akka.http.javadsl.server.Route;
import io.quorumkv.wire.InternalHttp;
import java.util.function.Supplier;

/** The cluster-secret check shared by the internal and the admin endpoints. */
final class ClusterSecret {

  private ClusterSecret() {}

  /** Compared in constant time, so the time to refuse tells nothing about how much of a guess was right. */
  static boolean matches(String secret, String given) {
    return java.security.MessageDigest.isEqual(secret.getBytes(java.nio.charset.StandardCharsets.UTF_8),
        given.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  /** {@code inner} when no secret is configured or the request carries it; 403 JSON otherwise. */
  static Route required(String secret, Supplier<Route> inner) {
    if (secret.isEmpty()) {
      return inner.get();
    }
    return Directives.optionalHeaderValueByName(InternalHttp.SECRET_HEADER, given ->
        given.filter(value -> matches(secret, value)).isPresent()
            ? inner.get()
            : Directives.complete(JsonResponses.error(StatusCodes.FORBIDDEN, "missing or wrong cluster secret")));
  }
}
