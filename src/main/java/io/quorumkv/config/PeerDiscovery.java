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
 * An entry that describes this replica itself is skipped: one named like its node id, or one
 * whose host and port are its own listening address ({@link LocalAddresses}), so the same
 * environment file can describe the whole cluster, with or without {@code NODE_ID}.
 */
public final class PeerDiscovery {

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(PeerDiscovery.class);

  private static final Pattern PEER_VARIABLE = Pattern.compile("PEER_(.+)_(HOST|PORT)");

  private PeerDiscovery() {}

  /**
   * @throws IllegalArgumentException with a one-line reason for a port that is not a number,
   *     a port without a host, or a host without a port
   */
  public static List<PeerAddress> fromEnvironment(Map<String, String> environment, String selfName) {
    return fromEnvironment(environment, selfName, LocalAddresses.NONE);
  }

  /**
   * @param local which host and port are this replica's own: such an entry is skipped, whatever its name
   * @throws IllegalArgumentException as {@link #fromEnvironment(Map, String)}
   */
  public static List<PeerAddress> fromEnvironment(
      Map<String, String> environment, String selfName, LocalAddresses local) {
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
    List<PeerAddress> own = new ArrayList<>();
    boolean named = false;
    for (String name : hosts.keySet()) {
      if (!ports.containsKey(name)) {
        throw new IllegalArgumentException(variableName(name, "PORT") + " is missing (its HOST is set)");
      }
      PeerAddress entry = new PeerAddress(name, hosts.get(name), parsePort(name, ports.get(name)));
      if (name.equalsIgnoreCase(selfName)) {
        named = true;
      } else if (local.isOwn(entry.host(), entry.port())) {
        own.add(entry);
      } else {
        peers.add(entry);
      }
    }
    // Skipping the wrong entry would drop a real peer in silence (N too small, tombstones settled
    // without it): when the name and the address disagree, or two entries are "this replica", refuse.
    if (own.size() > 1) {
      throw new IllegalArgumentException(variableName(own.get(0).name(), "HOST") + " and "
          + variableName(own.get(1).name(), "HOST") + " both point at this replica's own address and port ("
          + own.get(0).address() + ", " + own.get(1).address() + "): at most one entry may describe it");
    }
    if (named && !own.isEmpty()) {
      throw new IllegalArgumentException("NODE_ID names " + variableName(selfName, "HOST") + ", but "
          + variableName(own.get(0).name(), "HOST") + " (" + own.get(0).address()
          + ") is this replica's own address and port: one of them is wrong");
    }
    for (PeerAddress entry : own) {
      log.info("{} / {} ({}) is this replica's own address: it describes this replica, not a peer",
          variableName(entry.name(), "HOST"), variableName(entry.name(), "PORT"), entry.address());
    }
    for (String name : ports.keySet()) {
      if (!hosts.containsKey(name)) {
        throw new IllegalArgumentException(variableName(name, "HOST") + " is missing (its PORT is set)");
      }
    }
    return List.copyOf(peers);
  }

  /**
   * The name of the entry at this replica's own address ({@code local}), when exactly one is:
   * the name its peers know it by, used as its node id when none is configured.
   */
  public static java.util.Optional<String> ownName(Map<String, String> environment, LocalAddresses local) {
    List<String> own = new ArrayList<>();
    for (PeerAddress entry : fromEnvironment(environment, "", LocalAddresses.NONE)) {
      if (local.isOwn(entry.host(), entry.port())) {
        own.add(entry.name());
      }
    }
    return own.size() == 1 ? java.util.Optional.of(own.get(0)) : java.util.Optional.empty();
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
