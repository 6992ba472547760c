package io.quorumkv.client;

import java.util.Locale;
import java.util.Map;

/** Where a replica listens. */
public record NodeAddress(String host, int port) {

  public NodeAddress {
    if (host == null || host.isBlank()) {
      throw new IllegalArgumentException("a node address needs a host");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("a port is 1..65535, not " + port);
    }
  }

  /**
   * Parses {@code host:port}, or {@code http://host:port} / {@code https://host:port} (the
   * scheme, see {@link #scheme}, is the caller's to honour).
   */
  public static NodeAddress parse(String given) {
    String text = scheme(given).map(scheme -> given.substring(scheme.length() + 3)).orElse(given);
    if (text.endsWith("/")) {
      text = text.substring(0, text.length() - 1);
    }
    int colon = text.lastIndexOf(':');
    if (colon <= 0 || colon == text.length() - 1) {
      throw new IllegalArgumentException("a node is given as host:port, not '" + text + "'");
    }
    try {
      return new NodeAddress(text.substring(0, colon), Integer.parseInt(text.substring(colon + 1)));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("a node is given as host:port, not '" + text + "'", e);
    }
  }

  /** {@code http} or {@code https} when {@code text} starts with that scheme; empty for a bare {@code host:port}. */
  public static java.util.Optional<String> scheme(String text) {
    String lower = text.toLowerCase(Locale.ROOT);
    if (lower.startsWith("https://")) {
      return java.util.Optional.of("https");
    }
    return lower.startsWith("http://") ? java.util.Optional.of("http") : java.util.Optional.empty();
  }

  /**
   * The node named {@code name} by the discovery contract: {@code PEER_<NAME>_HOST} and
   * {@code PEER_<NAME>_PORT}.
   */
  public static NodeAddress fromEnvironment(Map<String, String> environment, String name) {
    String prefix = "PEER_" + name.toUpperCase(Locale.ROOT) + "_";
    String host = environment.get(prefix + "HOST");
    String port = environment.get(prefix + "PORT");
    if (host == null || host.isBlank() || port == null || port.isBlank()) {
      throw new IllegalArgumentException(prefix + "HOST and " + prefix + "PORT must be set to reach " + name);
    }
    try {
      return new NodeAddress(host.trim(), Integer.parseInt(port.trim()));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(prefix + "PORT must be a port number, not '" + port + "'", e);
    }
  }

  @Override
  public String toString() {
    return host + ":" + port;
  }
}
