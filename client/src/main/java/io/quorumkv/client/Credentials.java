package io.quorumkv.client;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What a client presents to replicas: a token (sent as {@code Authorization: Bearer}) and TLS
 * (HTTPS instead of HTTP), each when configured.
 */
public record Credentials(Optional<String> token, Optional<ClientTls> tls) {

  public static final Credentials NONE = new Credentials(Optional.empty(), Optional.empty());

  public Credentials {
    token = token.map(String::trim).filter(text -> !text.isEmpty());
  }

  /** {@code QUORUMKV_TOKEN}, {@code QUORUMKV_CACERT}, {@code QUORUMKV_CERT}, {@code QUORUMKV_KEY}. */
  public static Credentials fromEnvironment(Map<String, String> environment) {
    return new Credentials(Optional.ofNullable(environment.get("QUORUMKV_TOKEN")),
        ClientTls.fromEnvironment(environment));
  }

  /**
   * The credentials for endpoints given as text: {@code https://} endpoints need TLS (without a
   * CA file, the JDK's trust store verifies them); {@code http://} ones refuse it, since TLS
   * options given for a plain endpoint are a mistake better reported than ignored; bare
   * {@code host:port} endpoints follow the TLS options.
   *
   * @param tlsFiles {@code QUORUMKV_CACERT}, {@code QUORUMKV_CERT}, {@code QUORUMKV_KEY} (as from
   *     the options), read once the schemes are known to allow them
   * @throws IllegalArgumentException for mixed schemes, TLS options with {@code http://}, or a
   *     file that cannot be used
   */
  public static Credentials forEndpoints(List<String> endpoints, Optional<String> token, Map<String, String> tlsFiles) {
    boolean tlsGiven = ClientTls.VARIABLES.stream().anyMatch(name -> !tlsFiles.getOrDefault(name, "").isBlank());
    Set<String> schemes = endpoints.stream().map(NodeAddress::scheme).flatMap(Optional::stream)
        .collect(Collectors.toSet());
    if (schemes.size() > 1) {
      throw new IllegalArgumentException("endpoints mix http:// and https://: a cluster speaks one or the other");
    }
    if (schemes.contains("http") && tlsGiven) {
      throw new IllegalArgumentException("TLS options (--cacert, --cert, --key or QUORUMKV_CACERT, QUORUMKV_CERT,"
          + " QUORUMKV_KEY) given for http:// endpoints");
    }
    Optional<ClientTls> tls = ClientTls.fromEnvironment(tlsFiles);
    if (schemes.contains("https") && tls.isEmpty()) {
      tls = Optional.of(ClientTls.load(Optional.empty(), Optional.empty(), Optional.empty()));
    }
    return new Credentials(token, tls);
  }

  /** {@code https} with TLS, else {@code http}. */
  public String scheme() {
    return tls.isPresent() ? "https" : "http";
  }
}
