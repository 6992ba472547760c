package io.quorumkv.http;

import java.net.InetAddress;
import java.util.Optional;

/**
 * Who sent an internal call, as the connection shows it (never a header the sender writes):
 * its address for log lines, and whether that address is one the configured peers resolve to.
 * Only calls from a peer address count for the identity rules (docs/identity.md).
 */
record Sender(String description, boolean isPeer) {

  static final Sender UNKNOWN = new Sender("an unknown address", false);

  static Sender of(Optional<java.net.InetSocketAddress> remote, java.util.function.Predicate<InetAddress> isPeer) {
    return remote.map(address -> new Sender(address.getAddress().getHostAddress() + ":" + address.getPort(),
        isPeer.test(address.getAddress()))).orElse(UNKNOWN);
  }
}
