package io.quorumkv.torture;

import io.quorumkv.client.ClientTls;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLContext;

/**
 * The certificates of a local cluster run over TLS, in one directory: {@code ca.pem}, each
 * replica's {@code peerN.pem} and {@code peerN-key.pem} (for 127.0.0.1, with client
 * authentication), and {@code client.pem} and {@code client-key.pem} for the clients. Made by
 * {@code bin/make-test-certs.sh} or by the tests; the replicas get them through the TLS_*
 * variables, the workload and health checks through a client context.
 */
public record ClusterTls(Path directory) {

  public ClusterTls {
    List<String> missing = List.of("ca.pem", "peer0.pem", "peer0-key.pem", "peer1.pem", "peer1-key.pem", "peer2.pem",
        "peer2-key.pem", "client.pem", "client-key.pem").stream()
        .filter(name -> !Files.isRegularFile(directory.resolve(name))).toList();
    if (!missing.isEmpty()) {
      throw new IllegalArgumentException(directory + " lacks " + String.join(", ", missing)
          + " (bin/make-test-certs.sh makes them)");
    }
  }

  /** The TLS_* variables of replica {@code name} (peer0..peer2). */
  public Map<String, String> replicaEnvironment(String name) {
    return Map.of(
        "TLS_CERT_FILE", directory.resolve(name + ".pem").toAbsolutePath().toString(),
        "TLS_KEY_FILE", directory.resolve(name + "-key.pem").toAbsolutePath().toString(),
        "TLS_CA_FILE", directory.resolve("ca.pem").toAbsolutePath().toString());
  }

  /** A client context: trusts the CA, presents the client certificate. */
  public SSLContext clientContext() {
    return ClientTls.load(Optional.of(directory.resolve("ca.pem")), Optional.of(directory.resolve("client.pem")),
        Optional.of(directory.resolve("client-key.pem"))).sslContext();
  }

  /** The scheme and JDK HTTP client that talk to replicas with {@code tls} (plain HTTP without). */
  static HttpClient httpClient(Optional<ClusterTls> tls, Duration connectTimeout) {
    HttpClient.Builder builder = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(connectTimeout);
    tls.ifPresent(files -> builder.sslContext(files.clientContext()));
    return builder.build();
  }

  static String scheme(Optional<ClusterTls> tls) {
    return tls.isPresent() ? "https" : "http";
  }
}
