package io.quorumkv.cli;

import io.quorumkv.client.Credentials;
import io.quorumkv.client.NodeAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Option;

/**
 * Which replicas a command talks to, and how long it waits for each. In order of precedence:
 * {@code --endpoints}, then {@code QUORUMKV_ENDPOINTS}, then the replicas' own
 * {@code PEER_<NAME>_HOST}/{@code PEER_<NAME>_PORT} variables (sorted by name), so the client
 * run beside a replica, or from the same environment file, needs no option at all.
 */
final class Endpoints {

  private static final Pattern PEER_HOST = Pattern.compile("PEER_(.+)_HOST");

  @Option(names = "--endpoints", split = ",", paramLabel = "HOST:PORT",
      description = "Replicas to ask, in order: the next one is tried when one cannot be reached; https://HOST:PORT"
          + " for HTTPS (environment: QUORUMKV_ENDPOINTS; default: the PEER_<NAME>_HOST/PORT variables).")
  List<String> endpoints;

  /** The flag of earlier releases: one endpoint. */
  @Option(names = "--node", paramLabel = "HOST:PORT", hidden = true)
  String node;

  @Option(names = "--cacert", paramLabel = "FILE",
      description = "PEM CA certificates that sign the replicas' certificates; HTTPS even for bare HOST:PORT"
          + " endpoints (environment: QUORUMKV_CACERT; https:// endpoints without it: the JDK's trust store).")
  String cacert;

  @Option(names = "--cert", paramLabel = "FILE",
      description = "A PEM client certificate to present, with --key (environment: QUORUMKV_CERT).")
  String cert;

  @Option(names = "--key", paramLabel = "FILE",
      description = "The client certificate's PKCS#8 PEM key (environment: QUORUMKV_KEY).")
  String key;

  @Option(names = "--token", paramLabel = "TOKEN",
      description = "A client token, sent as Authorization: Bearer (environment: QUORUMKV_TOKEN).")
  String token;

  @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "5s",
      description = "How long to wait for each replica's answer (default: ${DEFAULT-VALUE}).")
  Duration timeout;

  /** The token from {@code --token}, else {@code QUORUMKV_TOKEN}; empty when neither is set. */
  java.util.Optional<String> token(Map<String, String> environment) {
    String chosen = token != null ? token : environment.getOrDefault("QUORUMKV_TOKEN", "");
    return chosen.isBlank() ? java.util.Optional.empty() : java.util.Optional.of(chosen.trim());
  }

  /**
   * The token and TLS to present: the options, else their environment variables; HTTPS when
   * an endpoint says {@code https://} or a CA or client certificate is given.
   *
   * @throws UsageException for a file that cannot be used, or TLS options with http:// endpoints
   */
  Credentials credentials(Map<String, String> environment) {
    Map<String, String> files = new java.util.HashMap<>(environment);
    java.util.Optional.ofNullable(cacert).ifPresent(file -> files.put("QUORUMKV_CACERT", file));
    java.util.Optional.ofNullable(cert).ifPresent(file -> files.put("QUORUMKV_CERT", file));
    java.util.Optional.ofNullable(key).ifPresent(file -> files.put("QUORUMKV_KEY", file));
    try {
      return Credentials.forEndpoints(texts(environment), token(environment), files);
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
  }

  /** The endpoints as given (with their schemes): the options, else QUORUMKV_ENDPOINTS, else none. */
  private List<String> texts(Map<String, String> environment) {
    List<String> chosen = new ArrayList<>();
    if (endpoints != null) {
      chosen.addAll(endpoints);
    }
    if (node != null) {
      chosen.add(node);
    }
    if (chosen.isEmpty()) {
      String fromEnvironment = environment.getOrDefault("QUORUMKV_ENDPOINTS", "").trim();
      if (!fromEnvironment.isEmpty()) {
        for (String text : fromEnvironment.split(",")) {
          chosen.add(text.trim());
        }
      }
    }
    return chosen;
  }

  /**
   * @throws UsageException when no endpoint is given anywhere, or the ones given are malformed
   */
  List<NodeAddress> resolve(Map<String, String> environment) {
    List<NodeAddress> chosen = new ArrayList<>();
    try {
      for (String text : texts(environment)) {
        chosen.add(NodeAddress.parse(text));
      }
      if (!chosen.isEmpty()) {
        return List.copyOf(chosen);
      }
      Map<String, NodeAddress> peers = new TreeMap<>();
      for (String variable : environment.keySet()) {
        Matcher matcher = PEER_HOST.matcher(variable);
        if (matcher.matches()) {
          String name = matcher.group(1).toLowerCase(Locale.ROOT);
          peers.put(name, NodeAddress.fromEnvironment(environment, name));
        }
      }
      if (peers.isEmpty()) {
        throw new UsageException("no endpoints: pass --endpoints HOST:PORT,... or set QUORUMKV_ENDPOINTS"
            + " (or the PEER_<NAME>_HOST/PORT variables)");
      }
      return List.copyOf(peers.values());
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
  }
}
