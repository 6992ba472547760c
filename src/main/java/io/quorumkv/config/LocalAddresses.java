package io.quorumkv.config;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.List;

/**
 * Tells whether a {@code PEER_*} entry's host and port are this replica's own listening
 * address. One environment file may describe the whole cluster, and in deployment every
 * replica listens on port 7000, so neither the entry's name (when {@code NODE_ID} names
 * something else) nor its port alone can tell this replica from a peer: an entry is this
 * replica when its port is this replica's and its host resolves to an address this replica
 * listens on (any local interface address when listening on the wildcard address).
 */
@FunctionalInterface
public interface LocalAddresses {

  boolean isOwn(String host, int port);

  /** No entry is ever this replica's own (for tests that configure peers by hand). */
  LocalAddresses NONE = (host, port) -> false;

  /** This host's interfaces, for a replica listening on {@code listenHost:listenPort}. */
  static LocalAddresses of(String listenHost, int listenPort) {
    return (host, port) -> {
      if (port != listenPort) {
        return false;
      }
      try {
        List<InetAddress> listening = List.of(InetAddress.getAllByName(listenHost));
        boolean wildcard = listening.stream().anyMatch(InetAddress::isAnyLocalAddress);
        for (InetAddress address : InetAddress.getAllByName(host)) {
          if (wildcard ? isThisHost(address) : listening.contains(address)) {
            return true;
          }
        }
        return false;
      } catch (UnknownHostException e) {
        // A host that does not resolve (yet) is another machine's name, not this one's.
        return false;
      }
    };
  }

  /**
   * Whether connecting to {@code address} reaches this host. Loopback counts whole: while a
   * replica listens on the wildcard address at a port, nothing else on this host can listen on
   * a loopback address at that port.
   */
  private static boolean isThisHost(InetAddress address) {
    if (address.isAnyLocalAddress() || address.isLoopbackAddress()) {
      return true;
    }
    try {
      return NetworkInterface.getByInetAddress(address) != null;
    } catch (SocketException e) {
      return false;
    }
  }
}
