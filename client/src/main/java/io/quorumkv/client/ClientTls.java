package io.quorumkv.client;

import akka.http.javadsl.ConnectionContext;
import akka.http.javadsl.HttpsConnectionContext;
import io.quorumkv.tls.KeyMaterial;
import io.quorumkv.tls.PemFiles;
import io.quorumkv.tls.TlsContexts;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLContext;

/**
 * How a client speaks TLS to replicas: which CA signs their certificates ({@code --cacert};
 * none: the JDK's default trust store) and, for replicas that ask for one, the client's own
 * certificate and key ({@code --cert}/{@code --key}). The replica's host name is always
 * verified against its certificate.
 */
public final class ClientTls {

  /** The environment variables that configure it (the options of {@code kv} set the same). */
  public static final List<String> VARIABLES = List.of("QUORUMKV_CACERT", "QUORUMKV_CERT", "QUORUMKV_KEY");

  private final SSLContext context;
  private final HttpsConnectionContext https;

  private ClientTls(SSLContext context) {
    this.context = context;
    // One context for every request, so akka-http pools connections per replica.
    this.https = ConnectionContext.httpsClient((host, port) -> TlsContexts.clientEngine(context, host, port));
  }

  /**
   * @throws IllegalArgumentException a file that cannot be used (the message names it), or a
   *     certificate without its key or the other way round
   */
  public static ClientTls load(Optional<Path> caFile, Optional<Path> certificateFile, Optional<Path> keyFile) {
    if (certificateFile.isPresent() != keyFile.isPresent()) {
      throw new IllegalArgumentException("a client certificate (--cert, QUORUMKV_CERT) and its key (--key,"
          + " QUORUMKV_KEY) go together");
    }
    List<java.security.cert.X509Certificate> authorities = caFile.map(PemFiles::certificates).orElse(List.of());
    Optional<KeyMaterial> identity = certificateFile.map(certificate -> KeyMaterial.load(certificate, keyFile.get()));
    return new ClientTls(TlsContexts.create(identity, authorities));
  }

  /**
   * From {@code QUORUMKV_CACERT}, {@code QUORUMKV_CERT} and {@code QUORUMKV_KEY}; empty when
   * none is set.
   */
  public static Optional<ClientTls> fromEnvironment(Map<String, String> environment) {
    Optional<Path> ca = path(environment, "QUORUMKV_CACERT");
    Optional<Path> certificate = path(environment, "QUORUMKV_CERT");
    Optional<Path> key = path(environment, "QUORUMKV_KEY");
    if (ca.isEmpty() && certificate.isEmpty() && key.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(load(ca, certificate, key));
  }

  private static Optional<Path> path(Map<String, String> environment, String variable) {
    return Optional.ofNullable(environment.get(variable)).map(String::trim).filter(text -> !text.isEmpty())
        .map(Path::of);
  }

  /** For akka-http requests. */
  public HttpsConnectionContext connectionContext() {
    return https;
  }

  /** For the JDK's HTTP client (which verifies host names itself). */
  public SSLContext sslContext() {
    return context;
  }
}
