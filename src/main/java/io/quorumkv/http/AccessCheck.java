package io.quorumkv.http;

import akka.http.javadsl.model.AttributeKeys;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.Directives;
import akka.http.javadsl.server.Route;
import io.quorumkv.security.AccessAudit;
import io.quorumkv.security.CertificateCaller;
import io.quorumkv.security.NetworkAccess;
import java.net.InetAddress;
import java.util.Optional;
import java.util.function.Supplier;

/** The network-access rules of {@link NetworkAccess} as route directives: 403 JSON, counted and logged. */
final class AccessCheck {

  private AccessCheck() {}

  /**
   * The connection's remote address, from akka-http's {@code remote-address-attribute}: never a
   * forwarding header ({@code X-Forwarded-For}, {@code X-Real-IP}), which any caller can write.
   */
  static Optional<InetAddress> remoteAddress(HttpRequest request) {
    return request.getAttribute(AttributeKeys.remoteAddress).flatMap(remote -> remote.getAddress());
  }

  /** The connection's TLS session (akka-http's {@code ssl-session-attribute}); empty over plain TCP. */
  static Optional<javax.net.ssl.SSLSession> tlsSession(HttpRequest request) {
    return request.getAttribute(AttributeKeys.sslSession).map(akka.http.javadsl.model.SslSessionInfo::getSession);
  }

  static Route internal(NetworkAccess access, AccessAudit audit, Supplier<Route> inner) {
    return checked(access, access::internal, audit, "an internal call", inner);
  }

  static Route admin(NetworkAccess access, AccessAudit audit, Supplier<Route> inner) {
    return checked(access, access::admin, audit, "an admin call", inner);
  }

  /** Headers by which a proxy says whom it forwards for: a loopback request carrying one came from elsewhere. */
  private static final java.util.List<String> FORWARDING_HEADERS = java.util.List.of(
      "x-forwarded-for", "forwarded", "x-real-ip", "x-forwarded-host", "x-forwarded-proto");

  static boolean forwarded(HttpRequest request) {
    for (akka.http.javadsl.model.HttpHeader header : request.getHeaders()) {
      if (FORWARDING_HEADERS.contains(header.lowercaseName())) {
        return true;
      }
    }
    return false;
  }

  /** A rule of {@link NetworkAccess}: the caller's address, whether the request was forwarded, its certificate. */
  @FunctionalInterface
  private interface Rule {
    Optional<NetworkAccess.Refusal> check(Optional<InetAddress> remote, boolean forwarded, CertificateCaller caller);
  }

  private static Route checked(NetworkAccess access, Rule rule, AccessAudit audit, String what, Supplier<Route> inner) {
    return Directives.extractRequest(request -> {
      Optional<InetAddress> remote = remoteAddress(request);
      CertificateCaller caller = access.caller(tlsSession(request));
      Optional<NetworkAccess.Refusal> refusal = rule.check(remote, forwarded(request), caller);
      if (refusal.isEmpty()) {
        return inner.get();
      }
      String address = remote.map(InetAddress::getHostAddress).orElse("an unknown address");
      audit.refused(refusal.get(), caller.hasCertificate() ? address + " (" + caller.subject() + ")" : address, what);
      return Directives.complete(JsonResponses.error(StatusCodes.FORBIDDEN, AccessAudit.describe(refusal.get())));
    });
  }
}
