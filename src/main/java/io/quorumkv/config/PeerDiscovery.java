package io.quorumkv.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the peers from the environment: one {@code PEER_<NAME>_HOST} / {@code PEER_<NAME>_PORT}
 * pair per other replica (HOCON cannot list variables by prefix, so they are scanned here).
 * The peer's name is {@code <NAME>} in lower case ({@code PEER_PEER1_HOST} names {@code peer1}).
 * An entry named like this replica's own node id describes this replica and is skipped.
 */
public final class PeerDiscovery {

  private static final Pattern PEER_VARIABLE = Pattern.compile("PEER_(.+)_(HOST|PORT)");

  private PeerDiscovery() {}

  /**
   * @throws IllegalArgumentException with a one-line reason for a port that is not a number,
   *     a port without a host, or a host without a port
   */
  public static List<PeerAddress> fromEnvironment(Map<String, String> environment, String selfName) {
    Map<String, String> hosts = new TreeMap<>();
    Map<String, String> ports = new TreeMap<>();
    for (Map.Entry<String, String> variable : environment.entrySet()) {
      Matcher matcher = PEER_VARIABLE.matcher(variable.getKey());
      if (matcher.matches()) {
        String name = matcher.group(1).toLowerCase(Locale.ROOT);
        (matcher.group(2).equals("HOST") ? hosts : ports).put(name, variable.getValue().trim());
      }
    }
    List<PeerAddress> peers = new ArrayList<>();
    for (String name : hosts.keySet()) {
      if (!ports.containsKey(name)) {
        throw new IllegalArgumentException(variableName(name, "PORT") + " is missing (its HOST is set)");
      }
      if (!name.equalsIgnoreCase(selfName)) {
        peers.add(new PeerAddress(name, hosts.get(name), parsePort(name, ports.get(name))));
      }
    }
    for (String name : ports.keySet()) {
      if (!hosts.containsKey(name)) {
        throw new IllegalArgumentException(variableName(name, "HOST") + " is missing (its PORT is set)");
      }
    }
    return List.copyOf(peers);
  }

  private static int parsePort(String name, String text) {
    try {
      int port = Integer.parseInt(text);
      if (port >= 1 && port <= 65535) {
        return port;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException(
        variableName(name, "PORT") + " must be a port number 1..65535, not '" + text + "'");
  }

  private static String variableName(String name, String part) {
    return "PEER_" + name.toUpperCase(Locale.ROOT) + "_" + part;
  }
}
